import type { RayClusterSummary } from '@ray-connect/shared';
import type { KubeClient } from '../ports/KubeClient.js';
import type { Logger } from '../ports/Logger.js';
import type { KubeList, ObjectMeta } from './kubeTypes.js';
import { asArray, asRecord, asString } from './json.js';
import { kubeStatus } from './kubeStatus.js';

type Fronting = NonNullable<RayClusterSummary['frontedBy']>;

interface Route {
  metadata?: ObjectMeta;
  spec?: { host?: string; path?: string; tls?: unknown };
}
interface HTTPRoute {
  metadata?: ObjectMeta;
  spec?: { hostnames?: string[]; rules?: { matches?: { path?: { value?: string } }[] }[] };
}

/**
 * OpenShift AI fronting of Ray dashboards in one namespace (ray-auth.md section 5), by RayCluster name:
 * RHOAI 2.x CodeFlare Route `ray-dashboard-<c>`; RHOAI 3.x ODH HTTPRoute labelled ray.io/cluster-name.
 * Both APIs are optional: a cluster without them (404) or without permission simply has no fronting.
 */
export async function detectFronting(
  kube: KubeClient,
  namespace: string,
  logger: Logger,
): Promise<Map<string, Fronting>> {
  const found = new Map<string, Fronting>();
  const ns = encodeURIComponent(namespace);
  const [hasRoutes, hasHttpRoutes] = await Promise.all([
    hasApi(kube, '/apis/route.openshift.io/v1'),
    hasApi(kube, '/apis/gateway.networking.k8s.io/v1'),
  ]);
  const [routes, httpRoutes] = await Promise.all([
    hasRoutes ? optionalList<Route>(kube, `/apis/route.openshift.io/v1/namespaces/${ns}/routes`, logger) : [],
    hasHttpRoutes
      ? optionalList<HTTPRoute>(
          kube,
          `/apis/gateway.networking.k8s.io/v1/namespaces/${ns}/httproutes`,
          logger,
        )
      : [],
  ]);
  for (const r of httpRoutes) {
    const labels = asRecord(r.metadata?.labels) ?? {};
    const cluster = asString(labels['ray.io/cluster-name']);
    const host = asString(asArray(r.spec?.hostnames)[0]);
    if (!cluster || !host) continue;
    if (labels['ray.io/cluster-namespace'] !== undefined && labels['ray.io/cluster-namespace'] !== namespace)
      continue;
    const path = firstPath(r) ?? `/ray/${namespace}/${cluster}`;
    found.set(cluster, { kind: 'odh-httproute', url: `https://${host}${path.replace(/\/$/, '')}` });
  }
  for (const r of routes) {
    const routeName = asString(r.metadata?.name) ?? '';
    const host = asString(r.spec?.host);
    if (!routeName.startsWith('ray-dashboard-') || !host) continue;
    const cluster = routeName.slice('ray-dashboard-'.length);
    if (found.has(cluster)) continue;
    const scheme = r.spec?.tls === undefined ? 'http' : 'https';
    found.set(cluster, {
      kind: 'openshift-route',
      url: `${scheme}://${host}${(asString(r.spec?.path) ?? '').replace(/\/$/, '')}`,
    });
  }
  return found;
}

const discovered = new WeakMap<KubeClient, Map<string, Promise<boolean>>>();

/**
 * Whether the API server serves a group version (one discovery GET per client, remembered), so clusters without
 * OpenShift Routes or Gateway API are not asked once per namespace. Only a definite answer is remembered.
 */
function hasApi(kube: KubeClient, path: string): Promise<boolean> {
  let known = discovered.get(kube);
  if (!known) discovered.set(kube, (known = new Map()));
  let answer = known.get(path);
  if (!answer) {
    answer = kube.request({ path }).then(
      () => true,
      (e: unknown) => {
        if (kubeStatus(e) !== 404) known.delete(path);
        return false;
      },
    );
    known.set(path, answer);
  }
  return answer;
}

function firstPath(r: HTTPRoute): string | undefined {
  const rule = asRecord(asArray(r.spec?.rules)[0]);
  const match = asRecord(asArray(rule?.matches)[0]);
  return asString(asRecord(match?.path)?.value);
}

async function optionalList<T>(kube: KubeClient, path: string, logger: Logger): Promise<T[]> {
  try {
    const list = await kube.request<KubeList<T>>({ path });
    return asArray(asRecord(list)?.items).filter((i): i is T => asRecord(i) !== undefined);
  } catch (e) {
    logger.debug('fronting detection skipped', { path, reason: e instanceof Error ? e.message : String(e) });
    return [];
  }
}
