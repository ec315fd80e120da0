import { allowOnly, stringFlag } from '../args.js';
import type { CliContext } from '../compose.js';
import { findConnections } from '../localSocket.js';
import { table } from '../output.js';

export const statusHelp = `Usage: ray-connect status [--namespace <ns>] [--context <name>] [--json]
The running \`ray-connect connect\` processes of this user: Ray cluster, path (forward = port-forward through the
API server, direct = the head pod's IP, fronted = the cluster's proxy), dashboard and Ray Client addresses.`;

export async function status(ctx: CliContext): Promise<number> {
  allowOnly(ctx.args, []);
  const namespace = stringFlag(ctx.args, 'namespace');
  const context = stringFlag(ctx.args, 'context');
  const running = await findConnections(ctx.configDir, {
    ...(namespace && { namespace }),
    ...(context && { clusterId: context }),
  });
  if (ctx.json) {
    ctx.out(JSON.stringify({ connections: running.map(({ socket: _socket, ...r }) => r) }));
    return 0;
  }
  if (running.length === 0) {
    ctx.out('No running connections. Start one: ray-connect connect <ray-cluster>');
    return 0;
  }
  const rows = [['NAMESPACE', 'NAME', 'PATH', 'AUTH', 'DASHBOARD', 'RAY CLIENT', 'PID']];
  for (const r of running)
    rows.push([
      r.ref.namespace,
      r.ref.name,
      r.path ?? 'forward',
      r.authMode,
      r.dashboardUrl ?? '',
      r.clientAddress ?? '',
      String(r.pid),
    ]);
  ctx.out(table(rows).trimEnd());
  return 0;
}
