import { RayConnectError } from '@ray-connect/core';
import type { ClusterSummary, RayClusterRef } from '@ray-connect/shared';
import { stringFlag } from './args.js';
import type { CliContext } from './compose.js';

/** The Kubernetes cluster a command works on: --context (a context name or a cluster id), else the current one. */
export async function selectCluster(ctx: CliContext): Promise<ClusterSummary> {
  const clusters = await ctx.api.listClusters();
  const wanted = stringFlag(ctx.args, 'context');
  const found = wanted
    ? clusters.find((c) => c.id === wanted || c.id === `context:${wanted}` || c.name === wanted)
    : (clusters.find((c) => c.current) ??
      clusters.find((c) => c.source === 'in-cluster') ??
      (clusters.length === 1 ? clusters[0] : undefined));
  if (!found) {
    const known = clusters.map((c) => c.name).join(', ') || 'none';
    throw new RayConnectError(
      'CONTEXT_NOT_FOUND',
      wanted ? `No kubeconfig context or cluster named ${wanted}` : 'No current kubeconfig context',
      {
        fix: `Pick one with --context <name> (known: ${known}), or set KUBECONFIG`,
      },
    );
  }
  return found;
}

/** A RayCluster by name: in --namespace, else the one namespace among the chosen ones that has it. */
export async function selectRayCluster(ctx: CliContext, name: string | undefined): Promise<RayClusterRef> {
  if (!name)
    throw new RayConnectError('BAD_REQUEST', 'Which Ray cluster? Give its name', {
      fix: 'List them with `ray-connect clusters`',
    });
  const cluster = await selectCluster(ctx);
  const namespace = stringFlag(ctx.args, 'namespace');
  if (namespace) return { clusterId: cluster.id, namespace, name };
  if (cluster.namespaces.length === 1)
    return { clusterId: cluster.id, namespace: cluster.namespaces[0] ?? cluster.namespace, name };
  const list = await ctx.api.listRayClusters(cluster.id);
  const matches = list.items.filter((i) => i.name === name);
  if (matches.length === 1 && matches[0])
    return { clusterId: cluster.id, namespace: matches[0].namespace, name };
  if (matches.length > 1)
    throw new RayConnectError(
      'BAD_REQUEST',
      `Ray cluster ${name} exists in several namespaces (${matches.map((m) => m.namespace).join(', ')})`,
      { fix: 'Pick one with --namespace' },
    );
  throw new RayConnectError('RAYCLUSTER_NOT_FOUND', `No Ray cluster ${name} in ${list.searched.join(', ')}`, {
    fix: 'List them with `ray-connect clusters`, or pass --namespace',
  });
}
