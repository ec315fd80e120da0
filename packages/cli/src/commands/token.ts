import { allowOnly } from '../args.js';
import type { CliContext } from '../compose.js';
import { selectRayCluster } from '../select.js';

export const tokenHelp = `Usage: ray-connect token <ray-cluster> [--namespace <ns>] [--context <name>] [--json]
Prints the Ray token of a cluster (its Secret, or in Kubernetes RBAC mode your own Kubernetes token).
It is a secret: prefer \`eval "$(ray-connect env <ray-cluster>)"\`, which never shows it.`;

export async function token(ctx: CliContext): Promise<number> {
  allowOnly(ctx.args, []);
  const ref = await selectRayCluster(ctx, ctx.args.positionals[0]);
  const result = await ctx.api.rayToken(ref);
  if (ctx.json) ctx.out(JSON.stringify(result));
  else ctx.out(result.token);
  return 0;
}
