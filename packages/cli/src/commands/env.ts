import { RayConnectError } from '@ray-connect/core';
import { allowOnly, stringFlag, UsageError } from '../args.js';
import type { CliContext } from '../compose.js';
import { ENV_FORMATS, formatEnv, isEnvFormat } from '../formatEnv.js';
import { findConnections, requestSessionEnv } from '../localSocket.js';

export const envHelp = `Usage: ray-connect env <ray-cluster> [--format sh|json|dotenv|fish|powershell] [--namespace <ns>] [--context <name>]
Prints the env for a running \`ray-connect connect <ray-cluster>\` (it asks that process over a local socket):
RAY_AUTH_MODE=token, RAY_AUTH_TOKEN (or RAY_AUTH_TOKEN_PATH), RAY_ADDRESS=http://127.0.0.1:<port>.
  sh:          eval "$(ray-connect env <ray-cluster>)"
  fish:        ray-connect env <ray-cluster> --format fish | source
  powershell:  ray-connect env <ray-cluster> --format powershell | Invoke-Expression
Ray Client users: the ray:// address is in --format json (rayClientAddress). Nothing is written to ~/.ray.`;

export async function env(ctx: CliContext): Promise<number> {
  allowOnly(ctx.args, ['format']);
  const name = ctx.args.positionals[0];
  if (!name) throw new UsageError('which Ray cluster? ray-connect env <ray-cluster>');
  const format = stringFlag(ctx.args, 'format') ?? (ctx.json ? 'json' : 'sh');
  if (!isEnvFormat(format)) throw new UsageError(`--format must be one of ${ENV_FORMATS.join(', ')}`);
  const namespace = stringFlag(ctx.args, 'namespace');
  const context = stringFlag(ctx.args, 'context');
  const running = await findConnections(ctx.configDir, {
    name,
    ...(namespace && { namespace }),
    ...(context && { clusterId: context }),
  });
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
  const session = await requestSessionEnv(record);
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
  return 0;
}
