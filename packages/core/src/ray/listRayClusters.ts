import type { ErrorInfo, RayClusterList, RayClusterSummary } from '@ray-connect/shared';
import { RayConnectError, wrapError } from '../errors.js';
import type { KubeClient } from '../ports/KubeClient.js';
import type { Logger } from '../ports/Logger.js';
import { detectFronting } from './detectFronting.js';
import { headPodWarnings } from './headPodWarnings.js';
import { asArray, asRecord, asString } from './json.js';
import { type KubeList, type Pod, podsPath, RAY_GROUP, RAY_VERSION, rayClustersPath } from './kubeTypes.js';
import { kubeStatus } from './kubeStatus.js';
import { parseRayCluster } from './parseRayCluster.js';

/** In `namespaces`: every namespace the user may list RayClusters in (`ray-connect clusters -A`, like kubectl). */
export const ALL_NAMESPACES = '*';

export interface ListRayClustersInput {
  clusterId: string;
  /** The namespaces to search; [ALL_NAMESPACES]: all of them. */
  namespaces: string[];
  /** Look for OpenShift AI Routes / HTTPRoutes (default true). */
  detectFronting?: boolean;
}

export interface ListRayClustersDeps {
  kube: KubeClient;
  logger: Logger;
}

/** RayClusters in the chosen namespaces; a namespace that fails (no permission, CRD missing) is reported, not fatal. */
export async function listRayClusters(
  input: ListRayClustersInput,
  deps: ListRayClustersDeps,
): Promise<RayClusterList> {
  if (input.namespaces.includes(ALL_NAMESPACES)) return listEverywhere(input, deps);
  const searched = [...new Set(input.namespaces)];
  const results = await Promise.all(searched.map((ns) => listInNamespace(ns, input, deps)));
  const list: RayClusterList = { items: [], searched, errors: [] };
  for (const [i, r] of results.entries()) {
    if ('error' in r) list.errors.push({ namespace: searched[i] ?? '', error: r.error });
    else list.items.push(...r.items);
  }
  sortItems(list.items);
  return list;
}

/**
 * Every namespace: one cluster-wide list when RBAC allows it (a ClusterRole); else each namespace the user may
 * list (namespaces where listing RayClusters is forbidden are left out, as they are not the user's).
 */
async function listEverywhere(
  input: ListRayClustersInput,
  deps: ListRayClustersDeps,
): Promise<RayClusterList> {
  const all = await listInNamespace(undefined, input, deps);
  if (!('error' in all)) {
    const items = sortItems(all.items);
    return { items, searched: [...new Set(items.map((i) => i.namespace))].sort(), errors: [] };
  }
  if (all.error.code !== 'ACCESS_DENIED')
    return {
      items: [],
      searched: [ALL_NAMESPACES],
      errors: [{ namespace: ALL_NAMESPACES, error: all.error }],
    };
  let namespaces: string[];
  try {
    const list = await deps.kube.request<KubeList<unknown>>({ path: '/api/v1/namespaces' });
    namespaces = asArray(asRecord(list)?.items)
      .map((n) => asString(asRecord(asRecord(n)?.metadata)?.name))
      .filter((n): n is string => n !== undefined);
  } catch (e) {
    deps.logger.debug('namespaces not listed', { reason: e instanceof Error ? e.message : String(e) });
    return {
      items: [],
      searched: [ALL_NAMESPACES],
      errors: [{ namespace: ALL_NAMESPACES, error: all.error }],
    };
  }
  const list = await listRayClusters({ ...input, namespaces }, deps);
  return { ...list, errors: list.errors.filter((e) => e.error.code !== 'ACCESS_DENIED') };
}

function sortItems(items: RayClusterSummary[]): RayClusterSummary[] {
  return items.sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
}

/** RayClusters of one namespace; namespace undefined: of all namespaces at once (needs a cluster-wide list). */
async function listInNamespace(
  namespace: string | undefined,
  input: ListRayClustersInput,
  deps: ListRayClustersDeps,
): Promise<{ items: RayClusterSummary[] } | { error: ErrorInfo }> {
  const { kube, logger } = deps;
  let objects: unknown[];
  try {
    const path =
      namespace === undefined ? `/apis/${RAY_GROUP}/${RAY_VERSION}/rayclusters` : rayClustersPath(namespace);
    const list = await kube.request<KubeList<unknown>>({ path });
    objects = asArray(asRecord(list)?.items);
  } catch (e) {
    return { error: listError(e, namespace).toInfo() };
  }
  const items: RayClusterSummary[] = [];
  for (const object of objects) {
    try {
      items.push(parseRayCluster(object, input.clusterId));
    } catch (e) {
      logger.warn('skipped a malformed RayCluster', {
        namespace,
        reason: e instanceof Error ? e.message : String(e),
      });
    }
  }
  if (items.length === 0) return { items };
  if (namespace === undefined) {
    // Head pods and fronting are namespaced: look them up where clusters are.
    const byNamespace = new Map<string, RayClusterSummary[]>();
    for (const item of items)
      byNamespace.set(item.namespace, [...(byNamespace.get(item.namespace) ?? []), item]);
    await Promise.all([...byNamespace].map(([ns, group]) => enrich(ns, group, input, deps)));
    return { items };
  }
  await enrich(namespace, items, input, deps);
  return { items };
}

/** Head pod warnings and fronting (Route / HTTPRoute) for the RayClusters of one namespace. */
async function enrich(
  namespace: string,
  items: RayClusterSummary[],
  input: ListRayClustersInput,
  { kube, logger }: ListRayClustersDeps,
): Promise<void> {
  const [heads, fronting] = await Promise.all([
    headPods(kube, namespace, logger),
    input.detectFronting === false ? new Map() : detectFronting(kube, namespace, logger),
  ]);
  for (const item of items) {
    const pod = heads.get(item.name);
    if (pod !== undefined) {
      item.headPod ??= asString(pod.metadata?.name);
      item.warnings.push(...headPodWarnings(item, pod));
    }
    const front = fronting.get(item.name);
    if (front !== undefined) item.frontedBy = front;
  }
}

/** Head pods by RayCluster name (label ray.io/cluster). Listing pods is optional: no permission = no extras. */
async function headPods(kube: KubeClient, namespace: string, logger: Logger): Promise<Map<string, Pod>> {
  const map = new Map<string, Pod>();
  try {
    const list = await kube.request<KubeList<Pod>>({
      path: podsPath(namespace),
      query: { labelSelector: 'ray.io/node-type=head' },
    });
    for (const pod of asArray(asRecord(list)?.items) as Pod[]) {
      const cluster = asString(asRecord(pod?.metadata?.labels)?.['ray.io/cluster']);
      if (cluster && !pod.metadata?.deletionTimestamp) map.set(cluster, pod);
    }
  } catch (e) {
    logger.debug('head pods not listed', { namespace, reason: e instanceof Error ? e.message : String(e) });
  }
  return map;
}

function listError(e: unknown, namespace: string | undefined): RayConnectError {
  const status = kubeStatus(e);
  if (namespace === undefined)
    return status === 403
      ? new RayConnectError('ACCESS_DENIED', 'You may not list RayClusters in all namespaces', {
          fix: 'Pick a namespace with -n <namespace>',
          details: { verb: 'list', resource: 'rayclusters', group: 'ray.io' },
          cause: e,
        })
      : status === 404
        ? new RayConnectError(
            'RAYCLUSTER_NOT_FOUND',
            'The RayCluster API (ray.io/v1) is not installed on this cluster',
            {
              fix: 'Install the KubeRay operator',
              cause: e,
            },
          )
        : wrapError(e, 'Listing RayClusters in all namespaces');
  if (status === 404)
    return new RayConnectError(
      'RAYCLUSTER_NOT_FOUND',
      `The RayCluster API (ray.io/v1) is not installed on this cluster, or namespace ${namespace} does not exist`,
      {
        fix: 'Install the KubeRay operator, or pick another namespace',
        details: { namespace },
        cause: e,
      },
    );
  if (status === 403)
    return new RayConnectError('ACCESS_DENIED', `You may not list RayClusters in namespace ${namespace}`, {
      fix: `Ask an admin for: kubectl create role ray-viewer --verb=get,list --resource=rayclusters.ray.io -n ${namespace}, and a rolebinding to you`,
      details: { namespace, verb: 'list', resource: 'rayclusters', group: 'ray.io' },
      cause: e,
    });
  return wrapError(e, `Listing RayClusters in namespace ${namespace}`);
}
