import type { ErrorInfo, RayClusterList, RayClusterSummary } from '@ray-connect/shared';
import { RayConnectError, wrapError } from '../errors.js';
import type { KubeClient } from '../ports/KubeClient.js';
import type { Logger } from '../ports/Logger.js';
import { detectFronting } from './detectFronting.js';
import { headPodWarnings } from './headPodWarnings.js';
import { asArray, asRecord, asString } from './json.js';
import { type KubeList, type Pod, podsPath, rayClustersPath } from './kubeTypes.js';
import { kubeStatus } from './kubeStatus.js';
import { parseRayCluster } from './parseRayCluster.js';

export interface ListRayClustersInput {
  clusterId: string;
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
  const searched = [...new Set(input.namespaces)];
  const results = await Promise.all(searched.map((ns) => listInNamespace(ns, input, deps)));
  const list: RayClusterList = { items: [], searched, errors: [] };
  for (const [i, r] of results.entries()) {
    if ('error' in r) list.errors.push({ namespace: searched[i] ?? '', error: r.error });
    else list.items.push(...r.items);
  }
  list.items.sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
  return list;
}

async function listInNamespace(
  namespace: string,
  input: ListRayClustersInput,
  { kube, logger }: ListRayClustersDeps,
): Promise<{ items: RayClusterSummary[] } | { error: ErrorInfo }> {
  let objects: unknown[];
  try {
    const list = await kube.request<KubeList<unknown>>({ path: rayClustersPath(namespace) });
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
  return { items };
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

function listError(e: unknown, namespace: string): RayConnectError {
  const status = kubeStatus(e);
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
