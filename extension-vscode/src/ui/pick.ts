import * as vscode from 'vscode';
import type {
  ClusterSummary,
  ConnectionSummary,
  RayClusterRef,
  RayClusterSummary,
  TreeNode,
} from '@ray-connect/shared';
import { authModeLabel, sameRef } from '@ray-connect/shared';
import type { Deps } from '../commands/deps';

function isNode(v: unknown): v is TreeNode {
  return typeof v === 'object' && v !== null && 'kind' in v && 'contextValue' in v;
}

function isRef(v: unknown): v is RayClusterRef {
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof (v as RayClusterRef).clusterId === 'string' &&
    typeof (v as RayClusterRef).name === 'string' &&
    typeof (v as RayClusterRef).namespace === 'string'
  );
}

/** The cluster id carried by a command argument: a TreeNode, a cluster id, or a Ray cluster ref. */
export function clusterIdFrom(arg: unknown): string | undefined {
  if (typeof arg === 'string') return arg;
  if (isNode(arg)) return arg.clusterId;
  if (isRef(arg)) return arg.clusterId;
  return undefined;
}

export function refFrom(arg: unknown): RayClusterRef | undefined {
  if (isNode(arg)) return arg.ref;
  if (isRef(arg)) return { clusterId: arg.clusterId, namespace: arg.namespace, name: arg.name };
  return undefined;
}

/** The cluster a command is about: from its argument, else asked (current context first). */
export async function resolveCluster(
  deps: Deps,
  arg: unknown,
  filter: (c: ClusterSummary) => boolean = () => true,
  placeHolder?: string,
): Promise<ClusterSummary | undefined> {
  if (!deps.store.loaded) await deps.store.refresh().catch(() => undefined);
  const id = clusterIdFrom(arg);
  if (id) return deps.store.cluster(id) ?? (await deps.api.listClusters()).find((c) => c.id === id);
  const candidates = deps.store.clusters.filter(filter).sort((a, b) => Number(b.current) - Number(a.current));
  if (candidates.length === 0) return undefined;
  if (candidates.length === 1) return candidates[0];
  const picked = await vscode.window.showQuickPick(
    candidates.map((c) => ({
      label: c.name,
      description: c.current ? vscode.l10n.t('current context') : '',
      detail: `${c.server}  ${deps.store.isSignedIn(c) ? (c.signIn.identity?.username ?? vscode.l10n.t('signed in')) : vscode.l10n.t('signed out')}`,
      cluster: c,
    })),
    { placeHolder: placeHolder ?? vscode.l10n.t('Choose a cluster'), ignoreFocusOut: true },
  );
  return picked?.cluster;
}

/** The Ray cluster a command is about: from its argument, else a pick among the listed ones matching `filter`. */
export async function resolveRayCluster(
  deps: Deps,
  arg: unknown,
  filter: (r: RayClusterSummary, connection: ConnectionSummary | undefined) => boolean,
  placeHolder: string,
): Promise<RayClusterRef | undefined> {
  const ref = refFrom(arg);
  if (ref) return ref;
  if (!deps.store.loaded) await deps.store.refresh().catch(() => undefined);
  const items: { label: string; description: string; detail: string; ref: RayClusterRef }[] = [];
  for (const c of deps.store.clusters) {
    const entry = deps.store.rayClusters[c.id];
    if (!entry || !('list' in entry)) continue;
    for (const r of entry.list.items) {
      const connection = deps.store.connections.find((k) => sameRef(k, r));
      if (!filter(r, connection)) continue;
      items.push({
        label: r.name,
        description: `${r.namespace} - ${c.name}`,
        detail: `${authModeLabel(r.authMode, vscode.l10n.t)} - ${connection ? connection.state : r.state}`,
        ref: { clusterId: r.clusterId, namespace: r.namespace, name: r.name },
      });
    }
  }
  // Connections of clusters whose list is not loaded still count for disconnect/dashboard.
  for (const k of deps.store.liveConnections()) {
    if (items.some((i) => sameRef(i.ref, k))) continue;
    const fake = {
      clusterId: k.clusterId,
      namespace: k.namespace,
      name: k.name,
      state: 'ready',
      authMode: k.authMode,
      tokenSource: { kind: 'none' },
      ports: {},
      warnings: [],
    } as RayClusterSummary;
    if (filter(fake, k))
      items.push({
        label: k.name,
        description: k.namespace,
        detail: k.state,
        ref: { clusterId: k.clusterId, namespace: k.namespace, name: k.name },
      });
  }
  if (items.length === 0) return undefined;
  if (items.length === 1) return items[0]!.ref;
  const picked = await vscode.window.showQuickPick(items, {
    placeHolder,
    ignoreFocusOut: true,
    matchOnDescription: true,
  });
  return picked?.ref;
}

export function connectionOf(deps: Deps, ref: RayClusterRef): ConnectionSummary | undefined {
  return deps.store.liveConnections().find((c) => sameRef(c, ref));
}
