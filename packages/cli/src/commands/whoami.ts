import { type ClusterSummary, StorageWords } from '@ray-connect/shared';
import { allowOnly } from '../args.js';
import { type CliContext, lockedKeychain, memoryOnlyHint } from '../compose.js';
import { table } from '../output.js';
import { selectCluster } from '../select.js';

export const whoamiHelp = `Usage: ray-connect whoami [--context <name>] [--all]
Shows who you are on the cluster (checked with the API server for kubeconfig credentials), or with --all every
cluster Ray Connect knows (kubeconfig contexts, added clusters, in-cluster) and its sign-in state.`;

export async function whoami(ctx: CliContext): Promise<number> {
  allowOnly(ctx.args, ['all']);
  if (ctx.args.flags.get('all') === true) {
    const clusters = await ctx.api.listClusters();
    if (ctx.json) ctx.out(JSON.stringify(clusters));
    else {
      const rows = [['', 'CLUSTER', 'SERVER', 'SIGN-IN', 'USER']];
      for (const c of clusters)
        rows.push([
          c.current ? '*' : '',
          c.name,
          c.server,
          `${c.signIn.status}${c.signIn.method ? ` (${c.signIn.method})` : ''}`,
          c.signIn.identity?.username ?? '',
        ]);
      ctx.out(table(rows).trimEnd());
      const first = clusters[0];
      if (ctx.agent && first) ctx.note(StorageWords.viaAgent(ctx.agent.pid, first.storage));
    }
    return 0;
  }
  let cluster = await selectCluster(ctx);
  if (cluster.signIn.method === 'kubeconfig' || cluster.signIn.method === 'in-cluster') {
    // Own credentials: ask the API server (SelfSubjectReview) who they are.
    const progress = await ctx.api.beginSignIn(cluster.id, { method: cluster.signIn.method });
    if (progress.kind === 'done') cluster = { ...cluster, signIn: progress.state };
  }
  const s = cluster.signIn;
  if (ctx.json) {
    ctx.out(
      JSON.stringify({
        cluster: cluster.id,
        server: cluster.server,
        signIn: s,
        storage: cluster.storage,
        ...(ctx.agent && { agent: ctx.agent }),
      }),
    );
    return 0;
  }
  if (s.status !== 'signed-in' && ctx.keychainLocked)
    throw lockedKeychain(`your sign-in to ${cluster.name}, if any,`);
  if (s.status !== 'signed-in') {
    ctx.out(`${cluster.name}: ${s.status}${s.error ? ` (${s.error.message})` : ''}`);
    storageNote(ctx, cluster);
    return 3;
  }
  const groups = s.identity?.groups.length ? ` groups: ${s.identity.groups.join(', ')}` : '';
  const expires = s.expiresAt ? ` expires: ${new Date(s.expiresAt).toISOString()}` : '';
  ctx.out(
    `${s.identity?.username ?? 'unknown user'} on ${cluster.name} (${cluster.server}) via ${s.method}${groups}${expires}`,
  );
  if (s.method !== 'kubeconfig' && s.method !== 'in-cluster') storageNote(ctx, cluster);
  return 0;
}

/** How long the sign-in lasts here and how to keep it (stderr: stdout stays one line for scripts). */
function storageNote(ctx: CliContext, cluster: ClusterSummary): void {
  if (ctx.memoryOnly) ctx.note(memoryOnlyHint(ctx));
  else if (ctx.agent) ctx.note(StorageWords.viaAgent(ctx.agent.pid, cluster.storage));
  else if (cluster.storage.degradedReason) ctx.note(cluster.storage.degradedReason);
}
