import { allowOnly } from '../args.js';
import { type CliContext, lockedKeychain } from '../compose.js';
import { selectCluster } from '../select.js';

export const logoutHelp = `Usage: ray-connect logout [--context <name>]
Signs out of a cluster: removes its stored tokens and says what was removed. kubeconfig credentials are kubectl's and stay.`;

export async function logout(ctx: CliContext): Promise<number> {
  allowOnly(ctx.args, []);
  const cluster = await selectCluster(ctx);
  if (ctx.keychainLocked) throw lockedKeychain(`what is stored for ${cluster.name}`);
  const result = await ctx.api.signOut(cluster.id);
  if (ctx.json) ctx.out(JSON.stringify({ cluster: cluster.id, ...result }));
  else if (result.removed.length === 0)
    ctx.out(`Nothing stored for ${cluster.name}; kubeconfig credentials, if any, are left to kubectl.`);
  else ctx.out(`Signed out of ${cluster.name}. Removed:\n${result.removed.map((r) => `  ${r}`).join('\n')}`);
  return 0;
}
