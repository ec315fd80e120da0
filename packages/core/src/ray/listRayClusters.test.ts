import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MemoryLogger } from '../ports/Logger.js';
import { FakeKubeClient } from './fakeKubeClient.js';
import { ALL_NAMESPACES, listRayClusters } from './listRayClusters.js';

const dir = join(import.meta.dirname, '../../testdata/rayclusters');
const fixture = (file: string) =>
  JSON.parse(readFileSync(join(dir, file), 'utf8')) as Record<string, unknown>;
const RC = '/apis/ray.io/v1/namespaces/ray-demo/rayclusters';

describe('listRayClusters', () => {
  it('lists, sorts, skips malformed items, and reports per-namespace errors', async () => {
    const logger = new MemoryLogger();
    const kube = new FakeKubeClient()
      .on('GET', RC, {
        items: [
          fixture('token-generated.json'),
          fixture('malformed-no-name.json'),
          fixture('auth-disabled.json'),
        ],
      })
      .on('GET', '/apis/ray.io/v1/namespaces/secret-ns/rayclusters', FakeKubeClient.status(403));
    const list = await listRayClusters(
      { clusterId: 'c', namespaces: ['ray-demo', 'secret-ns', 'ray-demo'] },
      { kube, logger },
    );
    expect(list.searched).toEqual(['ray-demo', 'secret-ns']);
    expect(list.items.map((i) => i.name)).toEqual(['raycluster-disabled', 'raycluster-token']);
    expect(list.errors).toEqual([
      {
        namespace: 'secret-ns',
        error: expect.objectContaining({ code: 'ACCESS_DENIED', fix: expect.stringMatching(/rayclusters/) }),
      },
    ]);
    expect(logger.lines.some((l) => l.message.includes('malformed'))).toBe(true);
  });

  it('finds the head pod by label and warns about RBAC mode without RAY_CLUSTER_NAMESPACE', async () => {
    const rbac = fixture('rbac.json');
    delete (rbac.status as Record<string, unknown>).head;
    const kube = new FakeKubeClient()
      .on('GET', RC, { items: [rbac] })
      .on('GET', '/api/v1/namespaces/ray-demo/pods', {
        items: [
          {
            metadata: {
              name: 'raycluster-rbac-head-x',
              labels: { 'ray.io/cluster': 'raycluster-rbac', 'ray.io/node-type': 'head' },
            },
            spec: { containers: [{ env: [{ name: 'RAY_CLUSTER_NAME', value: 'x' }] }] },
          },
        ],
      });
    const [item] = (
      await listRayClusters(
        { clusterId: 'c', namespaces: ['ray-demo'] },
        { kube, logger: new MemoryLogger() },
      )
    ).items;
    expect(item?.headPod).toBe('raycluster-rbac-head-x');
    expect(item?.warnings.join()).toMatch(/RAY_CLUSTER_NAMESPACE/);
  });

  it('detects OpenShift AI fronting: CodeFlare Route and ODH HTTPRoute', async () => {
    const kube = new FakeKubeClient()
      .on('GET', RC, { items: [fixture('token-generated.json'), fixture('rbac.json')] })
      .on('GET', '/apis/route.openshift.io/v1', { kind: 'APIResourceList' })
      .on('GET', '/apis/gateway.networking.k8s.io/v1', { kind: 'APIResourceList' })
      .on('GET', '/apis/route.openshift.io/v1/namespaces/ray-demo/routes', {
        items: [
          {
            metadata: { name: 'ray-dashboard-raycluster-token' },
            spec: { host: 'dash.apps.example.com', tls: { termination: 'reencrypt' } },
          },
        ],
      })
      .on('GET', '/apis/gateway.networking.k8s.io/v1/namespaces/ray-demo/httproutes', {
        items: [
          {
            metadata: {
              name: 'r',
              labels: { 'ray.io/cluster-name': 'raycluster-rbac', 'ray.io/cluster-namespace': 'ray-demo' },
            },
            spec: { hostnames: ['gw.example.com'] },
          },
        ],
      });
    const items = (
      await listRayClusters(
        { clusterId: 'c', namespaces: ['ray-demo'] },
        { kube, logger: new MemoryLogger() },
      )
    ).items;
    expect(items.find((i) => i.name === 'raycluster-token')?.frontedBy).toEqual({
      kind: 'openshift-route',
      url: 'https://dash.apps.example.com',
    });
    expect(items.find((i) => i.name === 'raycluster-rbac')?.frontedBy).toEqual({
      kind: 'odh-httproute',
      url: 'https://gw.example.com/ray/ray-demo/raycluster-rbac',
    });
  });

  it('asks for Routes and HTTPRoutes only when the API server serves them (discovery remembered)', async () => {
    const kube = new FakeKubeClient()
      .on('GET', RC, { items: [fixture('token-generated.json')] })
      .on('GET', '/apis/ray.io/v1/namespaces/other/rayclusters', {
        items: [{ ...fixture('noauth.json'), metadata: { name: 'x', namespace: 'other' } }],
      });
    await listRayClusters(
      { clusterId: 'c', namespaces: ['ray-demo', 'other'] },
      { kube, logger: new MemoryLogger() },
    );
    await listRayClusters(
      { clusterId: 'c', namespaces: ['ray-demo', 'other'] },
      { kube, logger: new MemoryLogger() },
    );
    const paths = kube.requests.map((r) => r.path);
    expect(paths.filter((p) => p.includes('/routes') || p.includes('/httproutes'))).toEqual([]);
    expect(paths.filter((p) => p === '/apis/route.openshift.io/v1').length).toBe(1);
  });
});

describe('listRayClusters in all namespaces (-A)', () => {
  const inNamespace = (file: string, namespace: string) => {
    const object = fixture(file);
    (object.metadata as Record<string, unknown>).namespace = namespace;
    return object;
  };

  it('one cluster-wide list when RBAC allows it; searched = the namespaces found', async () => {
    const kube = new FakeKubeClient().on('GET', '/apis/ray.io/v1/rayclusters', {
      items: [inNamespace('token-generated.json', 'team-b'), inNamespace('auth-disabled.json', 'team-a')],
    });
    const list = await listRayClusters(
      { clusterId: 'c', namespaces: [ALL_NAMESPACES], detectFronting: false },
      { kube, logger: new MemoryLogger() },
    );
    expect(list.items.map((i) => `${i.namespace}/${i.name}`)).toEqual([
      'team-a/raycluster-disabled',
      'team-b/raycluster-token',
    ]);
    expect(list.searched).toEqual(['team-a', 'team-b']);
    expect(list.errors).toEqual([]);
  });

  it('no cluster-wide list: each namespace the user may list, leaving out the forbidden ones', async () => {
    const kube = new FakeKubeClient()
      .on('GET', '/apis/ray.io/v1/rayclusters', FakeKubeClient.status(403))
      .on('GET', '/api/v1/namespaces', {
        items: [{ metadata: { name: 'team-a' } }, { metadata: { name: 'kube-system' } }],
      })
      .on('GET', '/apis/ray.io/v1/namespaces/team-a/rayclusters', {
        items: [inNamespace('auth-disabled.json', 'team-a')],
      })
      .on('GET', '/apis/ray.io/v1/namespaces/kube-system/rayclusters', FakeKubeClient.status(403));
    const list = await listRayClusters(
      { clusterId: 'c', namespaces: [ALL_NAMESPACES], detectFronting: false },
      { kube, logger: new MemoryLogger() },
    );
    expect(list.items.map((i) => `${i.namespace}/${i.name}`)).toEqual(['team-a/raycluster-disabled']);
    expect(list.errors).toEqual([]);
  });

  it('neither: ACCESS_DENIED for all namespaces with the fix -n', async () => {
    const kube = new FakeKubeClient()
      .on('GET', '/apis/ray.io/v1/rayclusters', FakeKubeClient.status(403))
      .on('GET', '/api/v1/namespaces', FakeKubeClient.status(403));
    const list = await listRayClusters(
      { clusterId: 'c', namespaces: [ALL_NAMESPACES] },
      { kube, logger: new MemoryLogger() },
    );
    expect(list.items).toEqual([]);
    expect(list.errors).toEqual([
      {
        namespace: ALL_NAMESPACES,
        error: expect.objectContaining({
          code: 'ACCESS_DENIED',
          message: 'You may not list RayClusters in all namespaces',
          fix: 'Pick a namespace with -n <namespace>',
        }),
      },
    ]);
  });
});
