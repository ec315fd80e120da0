import { AGENT_SECRET_ENV, type AgentReady, PROTOCOL_VERSION } from '@ray-connect/shared';
import { createAgentServer } from '../agent/agentServer.js';
import { agentsDir, publishAgent } from '../agent/discovery.js';
import { allowOnly, portFlag, UsageError } from '../args.js';
import { type CliContext, VERSION } from '../compose.js';

export const serveHelp = `Usage: ray-connect serve [--port <p>]
The local agent for JupyterLab: JSON over HTTP on 127.0.0.1 (protocol in shared/src/protocol.ts).
The parent passes a per-start secret in the environment variable ${AGENT_SECRET_ENV} (never argv); every
request must send it as "Authorization: Bearer <secret>". When ready the agent prints one JSON line
{"ready":true,"port":...}. It exits when its stdin closes (the parent died) or on SIGTERM.
While it runs, <config dir>/agents/<pid>.json (0600) lets \`ray-connect\` commands of the same user use its sign-ins.`;

export async function serve(ctx: CliContext): Promise<number> {
  allowOnly(ctx.args, ['port']);
  const secret = ctx.io.env[AGENT_SECRET_ENV];
  if (!secret || secret.length < 16)
    throw new UsageError(
      `set ${AGENT_SECRET_ENV} to a random secret of at least 16 characters (the parent process does this)`,
    );
  delete process.env[AGENT_SECRET_ENV];
  const agent = createAgentServer({ api: ctx.api, secret });
  const port = await agent.listen(portFlag(ctx.args, 'port') ?? 0);
  const ready: AgentReady = {
    ready: true,
    port,
    version: VERSION,
    protocol: PROTOCOL_VERSION,
    pid: process.pid,
  };
  // Findable by its own user: `ray-connect` in a terminal of this Jupyter server uses this agent's sign-ins.
  const published = await publishAgent(ctx.configDir, {
    pid: process.pid,
    port,
    version: VERSION,
    protocol: PROTOCOL_VERSION,
    startedAt: Date.now(),
    kubeconfig: ctx.io.env.KUBECONFIG ?? '',
    secret,
  }).catch((e: unknown) => {
    ctx.logger.warn(
      'Could not write the agent discovery file: ray-connect in terminals will not find this agent',
      {
        dir: agentsDir(ctx.configDir),
        reason: e instanceof Error ? e.message : String(e),
      },
    );
    return undefined;
  });
  const removeOnExit = () => published?.removeSync();
  process.once('exit', removeOnExit);
  ctx.out(JSON.stringify(ready));

  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    ctx.io.stdin.on('end', stop);
    ctx.io.stdin.on('close', stop);
    ctx.io.stdin.on('error', stop);
    ctx.io.stdin.resume();
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    process.once('SIGHUP', stop);
  });
  await published?.remove();
  process.off('exit', removeOnExit);
  await agent.close();
  await ctx.api.close();
  // Stopped by a signal, stdin is still open and would keep the process alive: let go of it.
  const stdin = ctx.io.stdin as NodeJS.ReadableStream & { destroy?: () => void };
  stdin.pause();
  stdin.destroy?.();
  return 0;
}
