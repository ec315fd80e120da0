import { connectionPathLabel, type ConnectOptions, type RayConnectEvent } from '@ray-connect/shared';
import { allowOnly, boolFlag, portFlag, stringFlag, UsageError } from '../args.js';
import type { CliContext } from '../compose.js';
import { EXIT, exitCodeFor } from '../exitCodes.js';
import { formatEnv } from '../formatEnv.js';
import { errorInfoLine, errorLine } from '../output.js';
import { publishConnection } from '../localSocket.js';
import { selectRayCluster } from '../select.js';

export const connectHelp = `Usage: ray-connect connect <ray-cluster> [--namespace <ns>] [--context <name>]
                          [--dashboard-port <p>] [--client-port <p>] [--token-file] [--path <p>] [--json]
Forwards the Ray head's dashboard (Jobs API) and Ray Client ports to 127.0.0.1 and stays in the foreground,
reconnecting by itself when the head pod restarts. Prints the dashboard URL and the env (token hidden).
In a pod (or where the head pod's IP is on this host's network) it connects to the head pod directly instead,
when that answers: no port-forward, no pods/portforward right.
In another shell:   eval "$(ray-connect env <ray-cluster>)"   then e.g.   ray job submit -- python -c 'print(1)'
  --dashboard-port, --client-port   fixed local ports (default: free ones)
  --token-file    hand out RAY_AUTH_TOKEN_PATH (a 0600 file kept fresh) instead of RAY_AUTH_TOKEN
  --path          auto (default; or RAY_CONNECT_PATH) | direct (the head pod IP only) | forward (port-forward only)
Ctrl-C stops the forward; nothing stays listening.`;

export async function connect(ctx: CliContext): Promise<number> {
  allowOnly(ctx.args, ['dashboard-port', 'client-port', 'token-file', 'path']);
  const ref = await selectRayCluster(ctx, ctx.args.positionals[0]);
  const options: ConnectOptions = {};
  const dashboardPort = portFlag(ctx.args, 'dashboard-port');
  const clientPort = portFlag(ctx.args, 'client-port');
  if (dashboardPort !== undefined) options.dashboardPort = dashboardPort;
  if (clientPort !== undefined) options.clientPort = clientPort;
  if (boolFlag(ctx.args, 'token-file')) options.tokenFile = true;
  const path = stringFlag(ctx.args, 'path');
  if (path !== undefined) {
    if (path !== 'auto' && path !== 'direct' && path !== 'forward')
      throw new UsageError('--path must be auto, direct or forward');
    options.path = path;
  }

  let exitCode: number = EXIT.ok;
  // connect() resolves only once the token is verified: a "ready" before that (the forward answered) is not
  // news, and would print "ready: ..." just before a token rejection.
  let connected = false;
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const unsubscribe = ctx.api.onEvent((event: RayConnectEvent) => {
    if (
      event.type !== 'connection-changed' ||
      event.connection.name !== ref.name ||
      event.connection.namespace !== ref.namespace
    )
      return;
    const c = event.connection;
    if (ctx.json) ctx.out(JSON.stringify({ event: 'connection-changed', connection: c }));
    else if (c.state === 'reconnecting')
      ctx.err(`reconnecting to ${ref.name}${c.error ? `: ${c.error.message}` : ''}`);
    else if (c.state === 'ready' && connected) ctx.err(`ready: ${ref.name} at ${c.dashboardUrl ?? ''}`);
    else if (c.state === 'failed') {
      ctx.err(
        c.error
          ? errorInfoLine(c.error, `${ref.name} failed: `)
          : errorLine(`${ref.name} failed: the forward stopped`),
      );
      exitCode = c.error ? exitCodeFor(c.error.code) : EXIT.error;
      finish();
    }
  });

  // Signals from the very start: Ctrl-C while connecting still stops at once.
  const interrupted = new AbortController();
  const onSignal = () => {
    interrupted.abort();
    finish();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.once('SIGHUP', onSignal);
  const stopSignals = () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onSignal);
  };
  // Through the Jupyter server's agent, a connection the panel already had stays when this command stops.
  const shared =
    ctx.agent !== undefined &&
    (await ctx.api.listConnections()).some(
      (c) =>
        c.clusterId === ref.clusterId &&
        c.namespace === ref.namespace &&
        c.name === ref.name &&
        c.state !== 'failed' &&
        c.state !== 'disconnected',
    );
  const summary = await untilAborted(ctx.api.connect(ref, options), interrupted.signal).catch(
    (e: unknown) => {
      stopSignals();
      unsubscribe();
      throw e;
    },
  );
  if (summary === undefined) {
    // Interrupted while connecting: undo whatever the connect got to, bounded so Ctrl-C is never ignored.
    if (!ctx.json) ctx.err(`interrupted: not connected to ${ref.name}`);
    const cleanup = shared ? ctx.api.close() : ctx.api.disconnect(ref).then(() => ctx.api.close());
    await untilAborted(
      cleanup.catch(() => undefined),
      AbortSignal.timeout(3000),
    );
    process.exit(EXIT.interrupted);
  }
  connected = true;
  const unpublish = await publishConnection(ctx.api, ref, summary, ctx.configDir);
  const env = await ctx.api.sessionEnv(ref);
  if (ctx.json)
    ctx.out(
      JSON.stringify({
        connection: summary,
        rayClientAddress: env.rayClientAddress,
        envNames: Object.keys(env.env),
      }),
    );
  else {
    const shown = { ...env.env };
    if (shown.RAY_AUTH_TOKEN) shown.RAY_AUTH_TOKEN = '<hidden: ray-connect env shows it>';
    ctx.out(`Connected to Ray cluster ${ref.name} (namespace ${ref.namespace}, auth ${summary.authMode}).`);
    ctx.out(`Dashboard: ${summary.dashboardUrl ?? ''}`);
    ctx.out(`Path: ${connectionPathLabel(summary.path)}`);
    if (env.rayClientAddress) ctx.out(`Ray Client: ${env.rayClientAddress}`);
    ctx.out('');
    ctx.out(formatEnv(shown, 'sh').trimEnd());
    ctx.out('');
    ctx.out(
      `In another shell: eval "$(ray-connect env ${ref.name}${ref.namespace ? ` -n ${ref.namespace}` : ''})"`,
    );
    ctx.out('Press Ctrl-C to stop.');
  }

  await finished;
  stopSignals();
  unsubscribe();
  await unpublish();
  if (shared) {
    await ctx.api.close();
    if (!ctx.json) ctx.err(`stopped; the Jupyter server's connection to ${ref.name} stays`);
    return exitCode;
  }
  const { removed } = await ctx.api.disconnect(ref);
  await ctx.api.close();
  if (!ctx.json) ctx.err(`stopped: ${removed.join('; ') || ref.name}`);
  return exitCode;
}

/** The promise's value, or undefined as soon as the signal fires (the promise keeps running). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T | undefined> {
  if (signal.aborted) return Promise.resolve(undefined);
  return new Promise<T | undefined>((resolve, reject) => {
    const onAbort = () => resolve(undefined);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
