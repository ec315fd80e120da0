import { describe, expect, it } from 'vitest';
import { MemoryLogger } from '../ports/Logger.js';
import { Secret } from '../secret.js';
import { detectFronting, verifyFronting } from './detectFronting.js';
import { FakeKubeClient } from './fakeKubeClient.js';

const GW = '/apis/gateway.networking.k8s.io/v1';

/** An HTTPRoute as the ODH KubeRay operator makes it (authentication_controller.go ensureHttpRoute). */
function odhRoute(
  ns: string,
  cluster: string,
  platform = 'opendatahub',
  extra: Record<string, unknown> = {},
) {
  const prefix = `/ray/${ns}/${cluster}`;
  return {
    metadata: {
      name: `${ns}-${cluster}`,
      namespace: platform,
      labels: { 'ray.io/cluster-namespace': ns, 'ray.io/cluster-name': cluster, 'ray.io/cluster': cluster },
    },
    spec: {
      parentRefs: [
        {
          group: 'gateway.networking.k8s.io',
          kind: 'Gateway',
          name: 'data-science-gateway',
          namespace: 'openshift-ingress',
        },
      ],
      rules: [
        { matches: [{ path: { type: 'Exact', value: prefix } }] },
        { matches: [{ path: { type: 'PathPrefix', value: prefix } }] },
      ],
      ...extra,
    },
  };
}

const gateway = (listeners: Record<string, unknown>[]) => ({ spec: { gatewayClassName: 'x', listeners } });

function kubeWithGatewayApi(): FakeKubeClient {
  return new FakeKubeClient().on('GET', GW, { kind: 'APIResourceList' });
}

describe('detectFronting', () => {
  it('ODH HTTPRoute in the platform namespace, no hostnames: the gateway listener host (and its port)', async () => {
    const kube = kubeWithGatewayApi()
      .on('GET', `${GW}/httproutes`, (req: { query?: Record<string, string | undefined> }) => {
        expect(req.query?.labelSelector).toBe('ray.io/cluster-namespace=team-a');
        return { items: [odhRoute('team-a', 'rc1'), odhRoute('team-a', 'rc2')] };
      })
      .on(
        'GET',
        `${GW}/namespaces/openshift-ingress/gateways/data-science-gateway`,
        gateway([
          { name: 'http', hostname: 'data-science-gateway.apps.example.com', port: 80, protocol: 'HTTP' },
          { name: 'https', hostname: 'data-science-gateway.apps.example.com', port: 8443, protocol: 'HTTPS' },
        ]),
      );
    const found = await detectFronting(kube, 'team-a', new MemoryLogger());
    expect(found.get('rc1')).toEqual({
      kind: 'odh-httproute',
      url: 'https://data-science-gateway.apps.example.com:8443/ray/team-a/rc1',
    });
    expect(found.get('rc2')?.url).toBe('https://data-science-gateway.apps.example.com:8443/ray/team-a/rc2');
    // one Gateway read for both routes
    expect(kube.requests.filter((r) => r.path.includes('/gateways/')).length).toBe(1);
  });

  it('port 443 is left out; parentRef sectionName picks the listener; wildcard hostnames are skipped', async () => {
    const route = odhRoute('team-a', 'rc1');
    (route.spec.parentRefs[0] as Record<string, unknown>).sectionName = 'public';
    const kube = kubeWithGatewayApi()
      .on('GET', `${GW}/httproutes`, { items: [route] })
      .on(
        'GET',
        `${GW}/namespaces/openshift-ingress/gateways/data-science-gateway`,
        gateway([
          { name: 'wild', hostname: '*.apps.example.com', port: 443, protocol: 'HTTPS' },
          { name: 'internal', hostname: 'internal.example.com', port: 9443, protocol: 'HTTPS' },
          { name: 'public', hostname: 'rh-ai.apps.example.com', port: 443, protocol: 'HTTPS' },
        ]),
      );
    expect((await detectFronting(kube, 'team-a', new MemoryLogger())).get('rc1')?.url).toBe(
      'https://rh-ai.apps.example.com/ray/team-a/rc1',
    );
  });

  it('no cluster-wide list permission: the cluster namespace and the ODH platform namespaces are searched', async () => {
    const kube = kubeWithGatewayApi()
      .on('GET', `${GW}/httproutes`, FakeKubeClient.status(403))
      .on('GET', `${GW}/namespaces/redhat-ods-applications/httproutes`, FakeKubeClient.status(403))
      .on('GET', `${GW}/namespaces/opendatahub/httproutes`, {
        items: [odhRoute('team-a', 'rc1'), odhRoute('team-b', 'other')],
      })
      .on('GET', `${GW}/namespaces/team-a/httproutes`, {
        items: [
          // an older operator: the route next to the cluster, with its own hostname
          {
            metadata: { name: 'rc3', namespace: 'team-a', labels: { 'ray.io/cluster-name': 'rc3' } },
            spec: { hostnames: ['rc3.apps.example.com'] },
          },
        ],
      })
      .on(
        'GET',
        `${GW}/namespaces/openshift-ingress/gateways/data-science-gateway`,
        gateway([{ name: 'https', hostname: 'gw.apps.example.com', port: 443, protocol: 'HTTPS' }]),
      );
    const found = await detectFronting(kube, 'team-a', new MemoryLogger());
    expect(Object.fromEntries([...found].map(([k, v]) => [k, v.url]))).toEqual({
      rc1: 'https://gw.apps.example.com/ray/team-a/rc1',
      rc3: 'https://rc3.apps.example.com/ray/team-a/rc3',
    });
  });

  it('an unreadable Gateway and no hostnames: no fronting (the port-forward is used)', async () => {
    const logger = new MemoryLogger();
    const kube = kubeWithGatewayApi()
      .on('GET', `${GW}/httproutes`, { items: [odhRoute('team-a', 'rc1')] })
      .on(
        'GET',
        `${GW}/namespaces/openshift-ingress/gateways/data-science-gateway`,
        FakeKubeClient.status(403),
      );
    expect((await detectFronting(kube, 'team-a', logger)).size).toBe(0);
    expect(JSON.stringify(logger.lines)).toMatch(/Gateway of an HTTPRoute could not be read/);
  });

  it('a route labelled for another namespace is not taken', async () => {
    const kube = kubeWithGatewayApi().on('GET', `${GW}/namespaces/team-a/httproutes`, {
      items: [
        {
          metadata: {
            name: 'x',
            namespace: 'team-a',
            labels: { 'ray.io/cluster-name': 'rc1', 'ray.io/cluster-namespace': 'team-b' },
          },
          spec: { hostnames: ['x.example.com'] },
        },
      ],
    });
    expect((await detectFronting(kube, 'team-a', new MemoryLogger())).size).toBe(0);
  });
});

describe('verifyFronting', () => {
  const front = { kind: 'odh-httproute' as const, url: 'https://gw.example.com/ray/ns/rc' };
  const ref = { namespace: 'ns', name: 'rc' };

  it('sends the token to <url>/api/version; 200 passes', async () => {
    const seen: [string, Record<string, string>][] = [];
    await verifyFronting(front, new Secret('tok'), ref, (url, headers) => {
      seen.push([url, headers]);
      return Promise.resolve({ status: 200, body: '{}' });
    });
    expect(seen).toEqual([['https://gw.example.com/ray/ns/rc/api/version', { authorization: 'Bearer tok' }]]);
  });

  it('403 from a CodeFlare oauth-proxy names get pods', async () => {
    const err = await verifyFronting(
      { kind: 'openshift-route', url: 'https://ray-dashboard-rc.apps.example.com' },
      new Secret('tok'),
      ref,
      () => Promise.resolve({ status: 403, body: '' }),
    ).catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'ACCESS_DENIED',
      message: expect.stringContaining('get on pods in ns'),
      fix: expect.stringContaining('--verb=get --resource=pods && kubectl create rolebinding'),
    });
  });

  it('network and TLS failures are RAY_UNREACHABLE and TLS_UNTRUSTED, saying how to give the CA', async () => {
    const refused = Object.assign(new TypeError('fetch failed'), {
      cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
    });
    await expect(verifyFronting(front, undefined, ref, () => Promise.reject(refused))).rejects.toMatchObject({
      code: 'RAY_UNREACHABLE',
      message: expect.stringContaining('the connection was refused'),
    });
    const untrusted = Object.assign(new TypeError('fetch failed'), {
      cause: Object.assign(new Error('unable to verify'), { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }),
    });
    await expect(
      verifyFronting(front, undefined, ref, () => Promise.reject(untrusted)),
    ).rejects.toMatchObject({
      code: 'TLS_UNTRUSTED',
      fix: expect.stringContaining('CF_SDK_CA_CERT_PATH'),
    });
  });
});
