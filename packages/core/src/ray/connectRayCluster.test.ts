import { readFileSync, statSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { connect as tcpConnect } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConnectionSummary } from '@ray-connect/shared';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../ports/Clock.js';
import { silentLogger } from '../ports/Logger.js';
import { connectRayCluster, type RayConnection } from './connectRayCluster.js';
import { FakeKubeClient } from './fakeKubeClient.js';
import { FakePortForwardServer } from './fakePortForwardServer.js';

const TOKEN = 'q1w2e3+r4t5/y6u7=='; // KubeRay-style base64 with + / =
const NS = 'ray-demo';
const ref = { clusterId: 'context:test', namespace: NS, name: 'rc' };

let api: FakePortForwardServer;
let kube: FakeKubeClient;
let ray: Server;
let rayPort: number;
let rayMode: 'token' | 'disabled' = 'token';
let accepted = TOKEN;
let connection: RayConnection | undefined;
const states: ConnectionSummary['state'][] = [];

function rayCluster(authOptions: unknown) {
  return {
    metadata: { name: 'rc', namespace: NS },
    spec: {
      rayVersion: '2.55.0',
      authOptions,
      headGroupSpec: {
        template: {
          spec: { containers: [{ name: 'ray-head', ports: [{ name: 'dashboard', containerPort: 8265 }] }] },
        },
      },
    },
    status: { conditions: [{ type: 'HeadPodReady', status: 'True' }], head: { podName: 'head-1' } },
  };
}

function setPod(name: string | undefined) {
  api.pods.clear();
  const pods = name
    ? [
        {
          metadata: {
            name,
            uid: `uid-${name}`,
            labels: { 'ray.io/cluster': 'rc', 'ray.io/node-type': 'head' },
          },
          status: { phase: 'Running' },
        },
      ]
    : [];
  if (name)
    api.pods.set(
      name,
      new Map([
        [8265, rayPort],
        [10001, rayPort],
      ]),
    );
  kube.routes.delete(`GET /api/v1/namespaces/${NS}/pods/head-1`);
  if (name === 'head-1') kube.on('GET', `/api/v1/namespaces/${NS}/pods/head-1`, pods[0]);
  kube.on('GET', `/api/v1/namespaces/${NS}/pods`, { items: pods });
}

beforeEach(async () => {
  rayMode = 'token';
  accepted = TOKEN;
  states.length = 0;
  ray = createServer((req, res) => {
    if (req.url === '/api/authentication_mode')
      return void res.end(JSON.stringify({ authentication_mode: rayMode }));
    if (rayMode === 'token') {
      const auth = req.headers.authorization;
      if (!auth) return void res.writeHead(401).end('Unauthorized: Missing authentication token');
      if (auth !== `Bearer ${accepted}`)
        return void res.writeHead(403).end('Forbidden: Invalid authentication token');
    }
    res.end(JSON.stringify({ ray_version: '2.55.0', path: req.url }));
  });
  rayPort = await new Promise<number>((r) =>
    ray.listen(0, '127.0.0.1', () => r((ray.address() as { port: number }).port)),
  );
  api = new FakePortForwardServer();
  kube = new FakeKubeClient(await api.start());
  setPod('head-1');
});

afterEach(async () => {
  await connection?.stop();
  connection = undefined;
  await api.stop();
  ray.closeAllConnections();
  await new Promise((r) => ray.close(r));
});

const deps = () => ({
  kube,
  clock: systemClock,
  logger: silentLogger,
  tokenDir: mkdtempSync(join(tmpdir(), 'rc-tokens-')),
  onChange: (s: ConnectionSummary) => states.push(s.state),
  watchIntervalMs: 0,
  backoff: { initialMs: 10, maxMs: 50, attempts: 200 },
});

function get(url: string, token?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url + '/api/version',
      { headers: token ? { authorization: `Bearer ${token}` } : {}, agent: false },
      (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('connectRayCluster', () => {
  it('token mode: reads the Secret, forwards, proves the path, and builds the env', async () => {
    kube.on('GET', `/apis/ray.io/v1/namespaces/${NS}/rayclusters/rc`, rayCluster({ mode: 'token' }));
    kube.on('GET', `/api/v1/namespaces/${NS}/secrets/rc`, {
      data: { auth_token: Buffer.from(TOKEN).toString('base64') },
    });
    connection = await connectRayCluster(ref, {}, deps());
    const summary = connection.summary();
    expect(summary.state).toBe('ready');
    expect(summary.dashboardUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const env = connection.sessionEnv();
    expect(env.env).toEqual({
      RAY_AUTH_MODE: 'token',
      RAY_AUTH_TOKEN: TOKEN,
      RAY_ADDRESS: summary.dashboardUrl,
    });
    expect(env.rayClientAddress).toMatch(/^ray:\/\/127\.0\.0\.1:\d+$/);
    expect((await get(summary.dashboardUrl ?? '', TOKEN)).status).toBe(200);
  });

  it('stops cleanly: nothing listens afterwards', async () => {
    kube.on('GET', `/apis/ray.io/v1/namespaces/${NS}/rayclusters/rc`, rayCluster({ mode: 'disabled' }));
    rayMode = 'disabled';
    connection = await connectRayCluster(ref, {}, deps());
    const port = Number(new URL(connection.summary().dashboardUrl ?? '').port);
    expect(connection.sessionEnv().env).toEqual({ RAY_ADDRESS: `http://127.0.0.1:${port}` });
    const removed = await connection.stop();
    expect(removed.join()).toMatch(/port-forward/);
    const error = await new Promise<NodeJS.ErrnoException>((r) =>
      tcpConnect(port, '127.0.0.1').on('error', r),
    );
    expect(error.code).toBe('ECONNREFUSED');
    expect(states.at(-1)).toBe('disconnected');
    connection = undefined;
  });

  it('a wrong Secret token -> RAY_REJECTED_TOKEN saying wrong/rotated token, and nothing left listening', async () => {
    kube.on('GET', `/apis/ray.io/v1/namespaces/${NS}/rayclusters/rc`, rayCluster({ mode: 'token' }));
    kube.on('GET', `/api/v1/namespaces/${NS}/secrets/rc`, {
      data: { auth_token: Buffer.from('stale').toString('base64') },
    });
    await expect(connectRayCluster(ref, {}, deps())).rejects.toMatchObject({
      code: 'RAY_REJECTED_TOKEN',
      message: expect.stringMatching(/wrong or was rotated/),
    });
    await expect.poll(() => api.sockets.size).toBe(0);
  });

  it("KubeRay could not create the head pod (ReplicaFailure) -> RAYCLUSTER_NOT_READY with KubeRay's reason and a fix, not 'wait'", async () => {
    const rc = rayCluster({ mode: 'token' });
    rc.status = {
      conditions: [
        { type: 'HeadPodReady', status: 'False', reason: 'HeadPodNotFound', message: 'Head Pod not found' },
        {
          type: 'ReplicaFailure',
          status: 'True',
          reason: 'FailedCreateHeadPod',
          message: 'FailedCreateHeadPod\npods "rc-head-x" is forbidden: exceeded quota: compute',
        },
      ],
    } as unknown as typeof rc.status;
    kube.on('GET', `/apis/ray.io/v1/namespaces/${NS}/rayclusters/rc`, rc);
    setPod(undefined);
    await expect(connectRayCluster(ref, {}, deps())).rejects.toMatchObject({
      code: 'RAYCLUSTER_NOT_READY',
      message: expect.stringMatching(
        /is failed: FailedCreateHeadPod: pods "rc-head-x" is forbidden: exceeded quota/,
      ),
      fix: expect.stringMatching(/^Fix the RayCluster spec.*kubectl describe raycluster rc -n ray-demo/),
    });
  });

  it("mode: token with the user's own RAY_AUTH_TOKEN on the head: connects with that token, not KubeRay's Secret", async () => {
    const rc = rayCluster({ mode: 'token' });
    (rc.spec.headGroupSpec.template.spec.containers[0] as Record<string, unknown>).env = [
      { name: 'RAY_AUTH_TOKEN', value: TOKEN },
    ];
    kube.on('GET', `/apis/ray.io/v1/namespaces/${NS}/rayclusters/rc`, rc);
    kube.on('GET', `/api/v1/namespaces/${NS}/secrets/rc`, {
      data: { auth_token: Buffer.from('operator-secret-token').toString('base64') },
    });
    connection = await connectRayCluster(ref, {}, deps());
    expect(connection.summary().state).toBe('ready');
    expect(connection.sessionEnv().env.RAY_AUTH_TOKEN).toBe(TOKEN);
  });

  it('no authOptions but the head requires a token (Ray 2.61 default) -> "requires a token" naming where it can come from', async () => {
    kube.on('GET', `/apis/ray.io/v1/namespaces/${NS}/rayclusters/rc`, rayCluster(undefined));
    await expect(connectRayCluster(ref, {}, deps())).rejects.toMatchObject({
      code: 'RAY_TOKEN_NOT_FOUND',
      message: expect.stringMatching(/requires a token/),
      fix: expect.stringMatching(/authOptions: \{mode: token\}.*RAY_AUTH_TOKEN on the head container/),
    });
    await expect.poll(() => api.sockets.size).toBe(0);
  });

  it('no permission on the Secret -> ACCESS_DENIED with the exact RBAC', async () => {
    kube.on('GET', `/apis/ray.io/v1/namespaces/${NS}/rayclusters/rc`, rayCluster({ mode: 'token' }));
    kube.on('GET', `/api/v1/namespaces/${NS}/secrets/rc`, FakeKubeClient.status(403));
    await expect(connectRayCluster(ref, {}, deps())).rejects.toMatchObject({
      code: 'ACCESS_DENIED',
      fix: expect.stringMatching(/kubectl create role .* --verb=get --resource=secrets --resource-name=rc/),
    });
  });

  it('RBAC mode without ray:write -> ACCESS_DENIED naming ray:write and the 5-minute cache', async () => {
    kube.on(
      'GET',
      `/apis/ray.io/v1/namespaces/${NS}/rayclusters/rc`,
      rayCluster({ mode: 'token', enableK8sTokenAuth: true }),
    );
    kube.on('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', { status: { allowed: false } });
    const error = await connectRayCluster(ref, {}, { ...deps(), username: 'oidc:bob' }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'ACCESS_DENIED' });
    const { message, fix } = error as { message: string; fix: string };
    expect(message).toMatch(/ray:write/);
    expect(fix).toMatch(
      /kubectl create role ray-user-rc -n ray-demo --verb=ray:write --resource=rayclusters.ray.io --resource-name=rc/,
    );
    expect(fix).toMatch(/--user=oidc:bob/);
    expect(fix).toMatch(/5 minutes/);
  });

  it('RBAC mode: the user token is the Ray token, optionally through a 0600 token file', async () => {
    kube.on(
      'GET',
      `/apis/ray.io/v1/namespaces/${NS}/rayclusters/rc`,
      rayCluster({ mode: 'token', enableK8sTokenAuth: true }),
    );
    kube.on(
      'POST',
      '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
      (req: { body?: { spec?: { resourceAttributes?: unknown } } }) => {
        expect(req.body?.spec?.resourceAttributes).toEqual({
          namespace: NS,
          verb: 'ray:write',
          group: 'ray.io',
          resource: 'rayclusters',
          name: 'rc',
        });
        return { status: { allowed: true } };
      },
    );
    accepted = 'fake-user-token';
    connection = await connectRayCluster(ref, { tokenFile: true }, deps());
    const env = connection.sessionEnv().env;
    expect(env.RAY_AUTH_TOKEN).toBeUndefined();
    const file = env.RAY_AUTH_TOKEN_PATH ?? '';
    expect(readFileSync(file, 'utf8').trim()).toBe('fake-user-token');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    await connection.stop();
    expect(() => statSync(file)).toThrow();
    connection = undefined;
  });

  it('OpenShift AI fronting: no port-forward, the route URL and the user token', async () => {
    kube.on('GET', `/apis/ray.io/v1/namespaces/${NS}/rayclusters/rc`, rayCluster({ mode: 'disabled' }));
    kube.on('GET', '/apis/route.openshift.io/v1', { kind: 'APIResourceList' });
    kube.on('GET', `/apis/route.openshift.io/v1/namespaces/${NS}/routes`, {
      items: [
        {
          metadata: { name: 'ray-dashboard-rc' },
          spec: { host: 'ray-dashboard-rc.apps.example.com', tls: {} },
        },
      ],
    });
    const seen: { url: string; authorization?: string }[] = [];
    const frontGet = (url: string, headers: Record<string, string>) => {
      seen.push({
        url,
        ...(headers.authorization !== undefined && { authorization: headers.authorization }),
      });
      return Promise.resolve({ status: 200, body: '{"version":"4"}' });
    };
    connection = await connectRayCluster(ref, {}, { ...deps(), frontGet });
    expect(seen).toEqual([
      {
        url: 'https://ray-dashboard-rc.apps.example.com/api/version',
        authorization: 'Bearer fake-user-token',
      },
    ]);
    expect(connection.summary()).toMatchObject({
      state: 'ready',
      path: 'fronted',
      dashboardUrl: 'https://ray-dashboard-rc.apps.example.com',
    });
    expect(connection.sessionEnv().env).toEqual({
      RAY_AUTH_MODE: 'token',
      RAY_AUTH_TOKEN: 'fake-user-token',
      RAY_ADDRESS: 'https://ray-dashboard-rc.apps.example.com',
    });
    expect(api.opened).toBe(0);
  });

  it('OpenShift AI fronting: a 403 from the proxy is ACCESS_DENIED with the RBAC it checks, nothing left running', async () => {
    kube.on('GET', `/apis/ray.io/v1/namespaces/${NS}/rayclusters/rc`, rayCluster({ mode: 'disabled' }));
    kube.on('GET', '/apis/gateway.networking.k8s.io/v1', { kind: 'APIResourceList' });
    kube.on('GET', '/apis/gateway.networking.k8s.io/v1/httproutes', {
      items: [
        {
          metadata: {
            name: `${NS}-rc`,
            namespace: 'opendatahub',
            labels: { 'ray.io/cluster-name': 'rc', 'ray.io/cluster-namespace': NS },
          },
          spec: { hostnames: ['gw.apps.example.com'] },
        },
      ],
    });
    const frontGet = () => Promise.resolve({ status: 403, body: 'Forbidden' });
    const err = await connectRayCluster(ref, {}, { ...deps(), frontGet, username: 'oidc:bob' }).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({
      code: 'ACCESS_DENIED',
      message: expect.stringContaining(`get on services/rc-head-svc in ${NS}`),
      fix: expect.stringContaining(
        `--verb=get,create,delete --resource=services --resource-name=rc-head-svc && kubectl create rolebinding ray-dashboard-rc -n ${NS} --role=ray-dashboard-rc --user=oidc:bob`,
      ),
    });
    const unauthorized = await connectRayCluster(
      ref,
      {},
      {
        ...deps(),
        frontGet: () => Promise.resolve({ status: 401, body: 'Unauthorized' }),
      },
    ).catch((e: unknown) => e);
    expect(unauthorized).toMatchObject({ code: 'TOKEN_INVALID' });
    expect(api.opened).toBe(0);
  });

  it('recovers by itself when the head pod is replaced', async () => {
    kube.on('GET', `/apis/ray.io/v1/namespaces/${NS}/rayclusters/rc`, rayCluster({ mode: 'token' }));
    kube.on('GET', `/api/v1/namespaces/${NS}/secrets/rc`, {
      data: { auth_token: Buffer.from(TOKEN).toString('base64') },
    });
    connection = await connectRayCluster(ref, {}, deps());
    const url = connection.summary().dashboardUrl ?? '';
    setPod(undefined);
    api.dropAll();
    const pending = get(url, TOKEN); // waits while the supervisor re-resolves
    await expect.poll(() => states.includes('reconnecting')).toBe(true);
    setPod('head-2');
    expect((await pending).status).toBe(200);
    await expect.poll(() => connection?.summary().state).toBe('ready');
    expect((await get(url, TOKEN)).status).toBe(200);
  });
});
