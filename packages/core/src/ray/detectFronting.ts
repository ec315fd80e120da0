import { caFix, NEUTRAL_CA_SETTINGS, type RayClusterSummary } from '@ray-connect/shared';
import { fetch as undiciFetch } from 'undici';
import { RayConnectError } from '../errors.js';
import { buildDispatcher } from '../kube/buildDispatcher.js';
import { errorCodeOf, mapNetworkError } from '../kube/mapKubeError.js';
import { proxyFor } from '../kube/proxyFor.js';
import type { ReadTextFile } from '../kube/readTextFile.js';
import { resolveCa } from '../kube/resolveCa.js';
import type { KubeClient } from '../ports/KubeClient.js';
import type { Logger } from '../ports/Logger.js';
import type { Secret } from '../secret.js';
import type { KubeList, ObjectMeta } from './kubeTypes.js';
import { asArray, asNumber, asRecord, asString } from './json.js';
import { kubeStatus } from './kubeStatus.js';

type Fronting = NonNullable<RayClusterSummary['frontedBy']>;

interface Route {
  metadata?: ObjectMeta;
  spec?: { host?: string; path?: string; tls?: unknown };
}
interface ParentRef {
  name?: string;
  namespace?: string;
  sectionName?: string;
  port?: number;
}
interface HTTPRoute {
  metadata?: ObjectMeta & { namespace?: string };
  spec?: {
    hostnames?: string[];
    parentRefs?: ParentRef[];
    rules?: { matches?: { path?: { type?: string; value?: string } }[] }[];
  };
}
interface Listener {
  name?: string;
  hostname?: string;
  port?: number;
  protocol?: string;
}
interface Gateway {
  spec?: { listeners?: Listener[] };
}

const GW = '/apis/gateway.networking.k8s.io/v1';

/**
 * Where the ODH KubeRay operator (RHOAI 3.x) puts a RayCluster's HTTPRoute when a user may not list HTTPRoutes
 * cluster-wide: its platform namespace (APPLICATION_NAMESPACE), the same list codeflare-sdk searches.
 */
export const ODH_PLATFORM_NAMESPACES = ['redhat-ods-applications', 'opendatahub'];

/**
 * OpenShift AI fronting of Ray dashboards in one namespace (ray-auth.md section 5), by RayCluster name:
 * - RHOAI 2.x CodeFlare Route `ray-dashboard-<c>` in the cluster's namespace (oauth-proxy behind it);
 * - RHOAI 3.x ODH HTTPRoute `<ns>-<c>` labelled `ray.io/cluster-name` / `ray.io/cluster-namespace`, in the operator's
 *   platform namespace (older operators: in the cluster's namespace), on gateway `data-science-gateway`, with no
 *   hostnames of its own: the URL is `https://<gateway listener hostname>[:port]/ray/<ns>/<c>` (kube-rbac-proxy behind).
 * Every API is optional: a cluster without them (404) or without permission simply has no fronting.
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
    hasApi(kube, GW),
  ]);
  const [routes, httpRoutes] = await Promise.all([
    hasRoutes ? optionalList<Route>(kube, `/apis/route.openshift.io/v1/namespaces/${ns}/routes`, logger) : [],
    hasHttpRoutes ? findHttpRoutes(kube, namespace, logger) : [],
  ]);
  const gateways = new Map<string, Promise<Gateway | undefined>>();
  for (const r of httpRoutes) {
    const labels = asRecord(r.metadata?.labels) ?? {};
    const cluster = asString(labels['ray.io/cluster-name']);
    if (!cluster || found.has(cluster)) continue;
    const labelledNs = asString(labels['ray.io/cluster-namespace']);
    const routeNs = asString(r.metadata?.namespace) ?? namespace;
    // Labelled for this namespace, or (older operators) unlabelled but in the cluster's own namespace.
    if (labelledNs !== undefined ? labelledNs !== namespace : routeNs !== namespace) continue;
    const path = (routePath(r) ?? `/ray/${namespace}/${cluster}`).replace(/\/$/, '');
    const own = asArray(r.spec?.hostnames)
      .map(asString)
      .find((h) => h && !h.startsWith('*'));
    const origin = own ? `https://${own}` : await gatewayOrigin(kube, r, routeNs, gateways, logger);
    if (origin) found.set(cluster, { kind: 'odh-httproute', url: `${origin}${path}` });
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

/**
 * The HTTPRoutes labelled for RayClusters of `namespace`: cluster-wide with a label selector when the user may,
 * else in the cluster's namespace and the ODH platform namespaces (each optional).
 */
async function findHttpRoutes(kube: KubeClient, namespace: string, logger: Logger): Promise<HTTPRoute[]> {
  const labelSelector = `ray.io/cluster-namespace=${namespace}`;
  try {
    const list = await kube.request<KubeList<HTTPRoute>>({
      path: `${GW}/httproutes`,
      query: { labelSelector },
    });
    const items = itemsOf<HTTPRoute>(list);
    // Older operators put an unlabelled-namespace route next to the cluster: look there too.
    return [
      ...items,
      ...(await optionalList<HTTPRoute>(kube, httpRoutesIn(namespace), logger, 'ray.io/cluster-name')),
    ];
  } catch (e) {
    logger.debug('HTTPRoutes not listed cluster-wide; trying the cluster and platform namespaces', {
      namespace,
      reason: e instanceof Error ? e.message : String(e),
    });
  }
  const lists = await Promise.all([
    optionalList<HTTPRoute>(kube, httpRoutesIn(namespace), logger, 'ray.io/cluster-name'),
    ...ODH_PLATFORM_NAMESPACES.filter((p) => p !== namespace).map((p) =>
      optionalList<HTTPRoute>(kube, httpRoutesIn(p), logger, labelSelector),
    ),
  ]);
  return lists.flat();
}

const httpRoutesIn = (ns: string) => `${GW}/namespaces/${encodeURIComponent(ns)}/httproutes`;

/**
 * `https://<host>[:port]` of the Gateway listener an HTTPRoute attaches to (its parentRef: sectionName, else port,
 * else the first listener with a concrete hostname). Undefined when the Gateway cannot be read.
 */
async function gatewayOrigin(
  kube: KubeClient,
  route: HTTPRoute,
  routeNs: string,
  cache: Map<string, Promise<Gateway | undefined>>,
  logger: Logger,
): Promise<string | undefined> {
  for (const parent of asArray(route.spec?.parentRefs).map(asRecord)) {
    const name = asString(parent?.name);
    if (!name) continue;
    const gwNs = asString(parent?.namespace) ?? routeNs;
    const key = `${gwNs}/${name}`;
    let gateway = cache.get(key);
    if (!gateway) {
      gateway = kube
        .request<Gateway>({
          path: `${GW}/namespaces/${encodeURIComponent(gwNs)}/gateways/${encodeURIComponent(name)}`,
        })
        .catch((e: unknown) => {
          logger.debug('the Gateway of an HTTPRoute could not be read', {
            gateway: key,
            reason: e instanceof Error ? e.message : String(e),
          });
          return undefined;
        });
      cache.set(key, gateway);
    }
    const listeners = asArray(asRecord(asRecord(await gateway)?.spec)?.listeners)
      .map(asRecord)
      .filter((l): l is Record<string, unknown> => l !== undefined);
    const concrete = (l: Record<string, unknown>) => {
      const h = asString(l.hostname);
      return h !== undefined && h !== '' && !h.startsWith('*');
    };
    const section = asString(parent?.sectionName);
    const port = asNumber(parent?.port);
    const listener =
      (section !== undefined ? listeners.find((l) => l.name === section) : undefined) ??
      (port !== undefined ? listeners.find((l) => asNumber(l.port) === port && concrete(l)) : undefined) ??
      listeners.find((l) => concrete(l) && asString(l.protocol) === 'HTTPS') ??
      listeners.find(concrete);
    if (!listener || !concrete(listener)) continue;
    const secure = asString(listener.protocol) !== 'HTTP';
    const p = asNumber(listener.port);
    const defaultPort = secure ? 443 : 80;
    return `${secure ? 'https' : 'http'}://${asString(listener.hostname)}${p !== undefined && p !== defaultPort ? `:${p}` : ''}`;
  }
  return undefined;
}

/** The route's PathPrefix (ODH: rule 1 is an Exact redirect, rule 2 the PathPrefix `/ray/<ns>/<c>`), else any path. */
function routePath(r: HTTPRoute): string | undefined {
  const paths = asArray(r.spec?.rules)
    .flatMap((rule) => asArray(asRecord(rule)?.matches))
    .map((m) => asRecord(asRecord(m)?.path))
    .filter((p): p is Record<string, unknown> => p !== undefined);
  const prefix = paths.find((p) => p.type === 'PathPrefix' && asString(p.value));
  return asString((prefix ?? paths.find((p) => asString(p.value)))?.value);
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

function itemsOf<T>(list: unknown): T[] {
  return asArray(asRecord(list)?.items).filter((i): i is T => asRecord(i) !== undefined);
}

async function optionalList<T>(
  kube: KubeClient,
  path: string,
  logger: Logger,
  labelSelector?: string,
): Promise<T[]> {
  try {
    return itemsOf<T>(
      await kube.request<KubeList<T>>({
        path,
        ...(labelSelector !== undefined && { query: { labelSelector } }),
      }),
    );
  } catch (e) {
    logger.debug('fronting detection skipped', { path, reason: e instanceof Error ? e.message : String(e) });
    return [];
  }
}

/** One GET through the OpenShift AI proxy in front of a dashboard. Injected in tests. */
export type FrontGet = (
  url: string,
  headers: Record<string, string>,
) => Promise<{ status: number; body: string }>;

export interface FrontGetOptions {
  /** CA file setting; else CF_SDK_CA_CERT_PATH, the workbench bundle, the system roots (as for identity providers). */
  caFile?: string;
  env: Record<string, string | undefined>;
  readFile: ReadTextFile;
  insecureSkipTlsVerify?: boolean;
  logger?: Logger;
}

/**
 * A FrontGet over undici: the route's certificate is checked against the CA setting / CF_SDK_CA_CERT_PATH / the
 * workbench bundle / the system roots (routers and gateways present the ingress certificate, not the API server's);
 * HTTPS_PROXY / NO_PROXY respected. No keep-alive, body bounded.
 */
export function createFrontGet(options: FrontGetOptions): FrontGet {
  let ca: Promise<string[] | undefined> | undefined;
  return async (url, headers) => {
    ca ??= resolveCa({
      env: options.env,
      readFile: options.readFile,
      ...(options.caFile !== undefined && { setting: options.caFile }),
      ...(options.logger !== undefined && { logger: options.logger }),
    }).then((r) => r.ca);
    const target = new URL(url);
    const dispatcher = buildDispatcher(
      {
        rejectUnauthorized: !options.insecureSkipTlsVerify,
        ...((await ca) !== undefined && { ca: await ca }),
      },
      proxyFor(target, options.env),
    );
    try {
      const res = await undiciFetch(url, {
        headers: { ...headers, connection: 'close' },
        dispatcher,
        redirect: 'manual',
        signal: AbortSignal.timeout(15_000),
      });
      const body = (await res.text()).slice(0, 64 * 1024);
      return { status: res.status, body };
    } finally {
      void dispatcher.close();
    }
  };
}

/**
 * Proves the path through the OpenShift AI proxy: `GET <url>/api/version` with the user's Kubernetes token.
 * 401 -> TOKEN_INVALID (the proxy's TokenReview refused it); 403 -> ACCESS_DENIED with the exact RBAC the proxy
 * checks (ODH kube-rbac-proxy: get services/<c>-head-svc, and create/delete for job submit/delete when the proxy
 * maps HTTP methods to verbs as upstream kube-rbac-proxy does; CodeFlare oauth-proxy: get pods in the namespace).
 */
export async function verifyFronting(
  front: Fronting,
  token: Secret | undefined,
  cluster: { namespace: string; name: string },
  get: FrontGet,
  username?: string,
): Promise<void> {
  const { namespace, name } = cluster;
  const url = `${front.url}/api/version`;
  let answer: { status: number; body: string };
  try {
    answer = await get(url, token ? { authorization: `Bearer ${token.reveal()}` } : {});
  } catch (e) {
    const mapped = mapNetworkError(e, front.url);
    if (mapped.code === 'TLS_UNTRUSTED')
      throw new RayConnectError('TLS_UNTRUSTED', `The certificate of ${front.url} is not trusted`, {
        fix: caFix('ingress', NEUTRAL_CA_SETTINGS),
        details: { url: front.url, ...(mapped.details ?? {}), caFor: 'ingress' },
        cause: e,
      });
    const code = errorCodeOf(e);
    const why =
      code === 'ENOTFOUND' || code === 'EAI_AGAIN'
        ? 'the host name does not resolve'
        : code === 'ECONNREFUSED'
          ? 'the connection was refused'
          : (code ?? (e instanceof Error ? e.message : String(e)));
    throw new RayConnectError(
      'RAY_UNREACHABLE',
      `The OpenShift AI proxy of Ray cluster ${name} (${front.url}) did not answer: ${why}`,
      {
        fix: 'Check that the route or gateway is up and reachable from here (VPN, HTTPS_PROXY/NO_PROXY), then retry',
        details: { url: front.url },
        cause: e,
      },
    );
  }
  const details = { namespace, name, url: front.url, status: answer.status };
  if (answer.status >= 200 && answer.status < 300) return;
  const who = username ?? '<your user>';
  if (answer.status === 401)
    throw new RayConnectError(
      'TOKEN_INVALID',
      `The OpenShift AI proxy of Ray cluster ${name} did not accept your Kubernetes token (${front.url})`,
      { fix: 'Sign in to the cluster again, then connect again', details },
    );
  if (answer.status === 403) {
    const odh = front.kind === 'odh-httproute';
    const resource = odh ? 'services' : 'pods';
    const resourceName = odh ? `${name}-head-svc` : undefined;
    const role = `ray-dashboard-${name}`;
    throw new RayConnectError(
      'ACCESS_DENIED',
      odh
        ? `You may not use Ray cluster ${name} in ${namespace}: its OpenShift AI proxy (kube-rbac-proxy) requires get on services/${resourceName} in ${namespace} (and create/delete to submit/delete jobs when the proxy takes the verb from the HTTP method)`
        : `You may not use Ray cluster ${name} in ${namespace}: its OpenShift AI proxy (oauth-proxy) requires get on pods in ${namespace}`,
      {
        fix: `Ask a namespace admin to run: kubectl create role ${role} -n ${namespace} --verb=${odh ? 'get,create,delete' : 'get'} --resource=${resource}${resourceName ? ` --resource-name=${resourceName}` : ''} && kubectl create rolebinding ${role} -n ${namespace} --role=${role} --user=${who}`,
        details: {
          ...details,
          verb: 'get',
          resource,
          group: '',
          ...(resourceName !== undefined && { resourceName }),
        },
      },
    );
  }
  if (answer.status === 404) return; // very old dashboards have no /api/version; the proxy let us through
  throw new RayConnectError(
    'RAY_UNREACHABLE',
    `The OpenShift AI proxy of Ray cluster ${name} answered ${answer.status} to /api/version (${front.url})`,
    { details },
  );
}
