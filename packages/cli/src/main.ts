import { StorageWords } from '@ray-connect/shared';
import { boolFlag, parseArgs, type ParsedArgs, UsageError } from './args.js';
import { clusters, clustersHelp } from './commands/clusters.js';
import { connect, connectHelp } from './commands/connect.js';
import { env, envHelp } from './commands/env.js';
import { login, loginHelp } from './commands/login.js';
import { logout, logoutHelp } from './commands/logout.js';
import { serve, serveHelp } from './commands/serve.js';
import { status, statusHelp } from './commands/status.js';
import { token, tokenHelp } from './commands/token.js';
import { whoami, whoamiHelp } from './commands/whoami.js';
import { type CliContext, compose, type Io, memoryOnlyHint, VERSION } from './compose.js';
import { EXIT } from './exitCodes.js';
import { noteLine, reportError } from './output.js';

const COMMANDS: Record<string, { run: (ctx: CliContext) => Promise<number>; help: string; summary: string }> =
  {
    login: {
      run: login,
      help: loginHelp,
      summary: 'sign in to a Kubernetes cluster (device, browser, OpenShift, token, kubeconfig)',
    },
    logout: { run: logout, help: logoutHelp, summary: 'sign out and say what was removed' },
    whoami: { run: whoami, help: whoamiHelp, summary: 'who you are on the cluster (--all: every cluster)' },
    clusters: { run: clusters, help: clustersHelp, summary: 'list Ray clusters with state and auth mode' },
    connect: {
      run: connect,
      help: connectHelp,
      summary: 'forward a Ray cluster to 127.0.0.1 (foreground; Ctrl-C stops)',
    },
    env: {
      run: env,
      help: envHelp,
      summary: 'print the env of a running connect: eval "$(ray-connect env <c>)"',
    },
    status: { run: status, help: statusHelp, summary: 'running connections: path, dashboard, Ray Client' },
    token: { run: token, help: tokenHelp, summary: 'print the Ray token of a cluster' },
    serve: {
      run: serve,
      help: serveHelp,
      summary: 'the local agent for JupyterLab (JSON over HTTP on 127.0.0.1)',
    },
  };

const GLOBAL_HELP = `Global options:
  --context <name>     kubeconfig context (or cluster id) to use; default: the current context
  -n, --namespace <ns> namespace of the Ray cluster
  --json               JSON output for scripts
  -h, --help           help for any command
Environment: KUBECONFIG, RAY_CONNECT_SECRET_STORE=file|memory, RAY_CONNECT_CONFIG_DIR, RAY_CONNECT_DEBUG=1 (stack traces, debug log),
  RAY_CONNECT_AGENT=auto|on|off (auto: with no OS keychain, use the sign-ins of your Jupyter server's Ray Connect agent).
Exit codes: 0 ok, 1 error, 2 usage, 3 sign-in needed, 4 access denied, 5 not found, 6 unreachable, 7 not connected, 8 local port in use, 130 interrupted.`;

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `Usage: ray-connect <command> [options]\n\nCommands:\n${lines.join('\n')}\n\n${GLOBAL_HELP}\n`;
}

/** Entry point of the `ray-connect` command. Returns the process exit code. */
export async function main(
  argv: string[],
  io: Io = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env },
): Promise<number> {
  let args: ParsedArgs;
  try {
    args = parseArgs(argv);
  } catch (e) {
    return reportError(e, io.stderr, io.env, false);
  }
  const json = boolFlag(args, 'json');
  if ((args.command === undefined && !boolFlag(args, 'version')) || args.command === 'help') {
    const topic = args.positionals[0];
    io.stdout.write(topic && COMMANDS[topic] ? `${COMMANDS[topic].help}\n\n${GLOBAL_HELP}\n` : usage());
    return args.command === undefined && !boolFlag(args, 'help') ? EXIT.usage : EXIT.ok;
  }
  if (args.command === 'version' || (args.command === undefined && boolFlag(args, 'version'))) {
    io.stdout.write(`${VERSION}\n`);
    return EXIT.ok;
  }
  const command = args.command === undefined ? undefined : COMMANDS[args.command];
  if (!command || args.command === undefined)
    return reportError(new UsageError(`unknown command ${args.command}`), io.stderr, io.env, json);
  if (boolFlag(args, 'help')) {
    io.stdout.write(`${command.help}\n\n${GLOBAL_HELP}\n`);
    return EXIT.ok;
  }
  let ctx: CliContext | undefined;
  try {
    ctx = await compose(
      args,
      io,
      args.command === 'serve' ? StorageWords.agentHolder : StorageWords.commandHolder,
    );
    return await command.run(ctx);
  } catch (e) {
    const code = reportError(e, io.stderr, io.env, json);
    // Signed out because the command's own memory is all there is: say how to keep a sign-in here.
    if (code === EXIT.signIn && ctx?.memoryOnly && !json)
      io.stderr.write(noteLine(memoryOnlyHint(ctx)) + '\n');
    return code;
  } finally {
    if (ctx && args.command !== 'serve' && args.command !== 'connect')
      await ctx.api.close().catch(() => undefined);
  }
}
