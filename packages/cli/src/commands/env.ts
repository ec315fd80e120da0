import { RayConnectError } from '@ray-connect/core';
import { allowOnly, stringFlag, UsageError } from '../args.js';
import type { CliContext } from '../compose.js';
import type { RayClusterRef, SessionEnv } from '@ray-connect/shared';
import { ENV_FORMATS, type EnvFormat, formatEnv, isEnvFormat } from '../formatEnv.js';
import { findConnections, requestSessionEnv } from '../localSocket.js';

export const envHelp = `Usage: ray-connect env <ray-cluster> [--format sh|json|dotenv|fish|powershell] [--namespace <ns>] [--context <name>]
Prints the env for a running \`ray-connect connect <ray-cluster>\` (it asks that process over a local socket):
RAY_AUTH_MODE=token, RAY_AUTH_TOKEN (or RAY_AUTH_TOKEN_PATH), RAY_ADDRESS=http://127.0.0.1:<port>.
  sh:          eval "$(ray-connect env <ray-cluster>)"
  fish:        ray-connect env <ray-cluster> --format fish | source
  powershell:  ray-connect env <ray-cluster> --format powershell | Invoke-Expression
With no such process, a connection made in the JupyterLab panel (this user's Jupyter server agent) is used.
Ray Client users: the ray:// address is in --format json (rayClientAddress). Nothing is written to ~/.ray.`;

export async function env(ctx: CliContext): Promise<number> {
  allowOnly(ctx.args, ['format']);
  const name = ctx.args.positionals[0];
  if (!name) throw new UsageError('which Ray cluster? ray-connect env <ray-cluster>');
  const format = stringFlag(ctx.args, 'format') ?? (ctx.json ? 'json' : 'sh');
  if (!isEnvFormat(format)) throw new UsageError(`--format must be one of ${ENV_FORMATS.join(', ')}`);
  const namespace = stringFlag(ctx.args, 'namespace');
  const context = stringFlag(ctx.args, 'context');
  const filter = { name, ...(namespace && { namespace }), ...(context && { clusterId: context }) };
  const running = await findConnections(ctx.configDir, filter);
  const viaAgent = running.length === 0 && ctx.agent ? await agentConnections(ctx, filter) : [];
  if (viaAgent.length > 1)
    throw new UsageError(
      `several connections to ${name} in the Jupyter server's agent (${viaAgent.map((r) => `${r.clusterId} ${r.namespace}`).join('; ')}): pick one with --namespace / --context`,
    );
  if (viaAgent[0]) {
    // Connected from the JupyterLab panel (or another command through the agent): the agent hands out its env.
    const session = await ctx.api.sessionEnv(viaAgent[0]);
    print(ctx, format, session);
    return 0;
  }
  if (running.length === 0)
    throw new RayConnectError(
      'AGENT_UNAVAILABLE',
      `Not connected to Ray cluster ${name}: no \`ray-connect connect ${name}\` is running`,
      {
        fix: `Start it in another terminal: ray-connect connect ${name}${namespace ? ` -n ${namespace}` : ''}`,
      },
    );
  if (running.length > 1)
    throw new UsageError(
      `several connections to ${name} run (${running.map((r) => `${r.ref.clusterId} ${r.ref.namespace}`).join('; ')}): pick one with --namespace / --context`,
    );
  const record = running[0]!;
  print(ctx, format, await requestSessionEnv(record));
  return 0;
}

/** The agent's live connections that match, as refs. */
async function agentConnections(
  ctx: CliContext,
  filter: { name: string; namespace?: string; clusterId?: string },
): Promise<RayClusterRef[]> {
  return (await ctx.api.listConnections())
    .filter(
      (c) =>
        c.name === filter.name &&
        c.state !== 'failed' &&
        c.state !== 'disconnected' &&
        (!filter.namespace || c.namespace === filter.namespace) &&
        (!filter.clusterId ||
          c.clusterId === filter.clusterId ||
          c.clusterId === `context:${filter.clusterId}`),
    )
    .map((c) => ({ clusterId: c.clusterId, namespace: c.namespace, name: c.name }));
}

function print(ctx: CliContext, format: EnvFormat, session: SessionEnv): void {
  if (format === 'json')
    ctx.out(
      JSON.stringify(
        {
          env: session.env,
          rayClientAddress: session.rayClientAddress,
          tokenVersion: session.tokenVersion,
          tokenExpiresAt: session.tokenExpiresAt,
        },
        null,
        2,
      ),
    );
  else ctx.io.stdout.write(formatEnv(session.env, format));
}
