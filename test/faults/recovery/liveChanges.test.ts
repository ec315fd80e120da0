// Things that change on the cluster while the user is connected, in our own namespace (test/faults/world.ts), as
// a ServiceAccount signed in with a pasted token: the RBAC binding of an RBAC-mode Ray cluster deleted; the token
// Secret of a token-mode cluster rotated, then deleted (a fake head that checks the token like Ray does); the kwok
// node of a head pod deleted (our own node; the sandbox's kwok-node is never touched); a head pod that never runs.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RayConnectEvent } from '@ray-connect/shared';
import {
  createRayConnect,
  FakeBrowser,
  MemoryLogger,
  MemorySecretStore,
  type RayConnect,
  systemClock,
} from '../../../packages/core/src/index.js';
import { createToken, kubectl } from '../../sandbox/client.mjs';
import { sandbox, tempDir, writeJson } from '../helpers.js';
import {
  addRayCluster,
  createWorld,
  type ExtraCluster,
  get,
  startFakeHead,
  waitFor,
  type World,
} from '../world.js';

const s = sandbox();
let world: World;
let api: RayConnect;
let clusterId = '';
let user = '';
const events: RayConnectEvent[] = [];
const heads: Awaited<ReturnType<typeof startFakeHead>>[] = [];
const node = `faults-node-${randomBytes(3).toString('hex')}`;
let rayToken = `t1-${randomBytes(16).toString('hex')}`;
let saToken = '';

const ref = (name: string) => ({ clusterId, namespace: world.namespace, name });
const b64 = (t: string) => Buffer.from(t).toString('base64');

async function admin(args: string[], input?: string): Promise<string> {
  const r = await kubectl(args, input === undefined ? {} : { input });
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}
const apply = (items: unknown[]) =>
  admin(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
const rbac = (name: string, rules: unknown[], ns: string) => [
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name, namespace: ns },
    rules,
  },
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name, namespace: ns },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
    subjects: [{ kind: 'ServiceAccount', name: 'user', namespace: ns }],
  },
];
const secret = (ns: string, token: string) => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name: 'rc-token', namespace: ns },
  data: { auth_token: b64(token) },
});

beforeAll(async () => {
  world = await createWorld();
  const ns = world.namespace;
  user = `system:serviceaccount:${ns}:user`;
  await apply([
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'user', namespace: ns } },
    ...rbac(
      'reader',
      [
        { apiGroups: ['ray.io'], resources: ['rayclusters'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: [''], resources: ['pods', 'services'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: [''], resources: ['pods/portforward'], verbs: ['get', 'create'] },
      ],
      ns,
    ),
    ...rbac(
      'token-reader',
      [{ apiGroups: [''], resources: ['secrets'], resourceNames: ['rc-token'], verbs: ['get'] }],
      ns,
    ),
    ...rbac(
      'ray-writer',
      [
        {
          apiGroups: ['ray.io'],
          resources: ['rayclusters'],
          resourceNames: ['rc-rbac'],
          verbs: ['ray:write'],
        },
      ],
      ns,
    ),
    secret(ns, rayToken),
  ]);
  saToken = await createToken(ns, 'user', { expirationSeconds: 3600 });
  const tokenHead = await startFakeHead({ token: () => rayToken });
  const rbacHead = await startFakeHead({ token: () => saToken });
  heads.push(tokenHead, rbacHead);
  await addRayCluster(ns, {
    name: 'rc-token',
    headPort: tokenHead.port,
    authOptions: { mode: 'token' },
  });
  await addRayCluster(ns, {
    name: 'rc-rbac',
    headPort: rbacHead.port,
    authOptions: { mode: 'token', enableK8sTokenAuth: true },
  });

  const home = tempDir('rc-faults-live-');
  const kubeconfig = writeJson(join(home, 'config'), {
    apiVersion: 'v1',
    kind: 'Config',
    'current-context': 'f',
    clusters: [
      {
        name: 'sandbox',
        cluster: { server: `https://127.0.0.1:${world.proxy.port}`, 'certificate-authority': s.caFile },
      },
    ],
    users: [{ name: 'nobody', user: {} }],
    contexts: [{ name: 'f', context: { cluster: 'sandbox', user: 'nobody', namespace: ns } }],
  });
  // not world.facade(): that one uses the admin kubeconfig; this one has no user, so the pasted token is used
  api = createRayConnect({
    store: new MemorySecretStore(),
    logger: new MemoryLogger(),
    clock: systemClock,
    browser: new FakeBrowser(),
    configDir: tempDir('rc-faults-live-cfg-'),
    homedir: home,
    env: { KUBECONFIG: kubeconfig },
    version: 'faults',
    watchIntervalMs: 500,
  });
  api.onEvent((e) => events.push(e));
  clusterId = (await api.listClusters())[0]!.id;
  const p = await api.beginSignIn(clusterId, { method: 'token', token: saToken });
  expect(p.kind === 'done' && p.state.identity?.username).toBe(user);
}, 180_000);

afterAll(async () => {
  await api?.close();
  await kubectl(['delete', 'node', node, '--wait=false']);
  await world?.dispose();
  for (const h of heads) await h.close();
});

describe('RBAC-mode cluster: the RoleBinding deleted while connected', () => {
  it('the access check then says ACCESS_DENIED with the exact RBAC fix; a new connect is refused early; restored -> allowed again', async () => {
    const r = ref('rc-rbac');
    expect((await api.checkAccess(r)).allowed).toBe(true);
    const c = await api.connect(r);
    expect(c).toMatchObject({ state: 'ready', authMode: 'kubernetes' });
    expect(await get(`${c.dashboardUrl}/api/version`)).toMatchObject({ status: 401 }); // Ray wants the token

    await admin(['delete', 'rolebinding', 'ray-writer', '-n', world.namespace]);
    const check = await api.checkAccess(r);
    expect(check.allowed).toBe(false);
    expect(check.error?.code).toBe('ACCESS_DENIED');
    expect(check.error?.message).toContain('ray:write');
    expect(check.error?.fix).toContain(
      `kubectl create role ray-user-rc-rbac -n ${world.namespace} --verb=ray:write --resource=rayclusters.ray.io --resource-name=rc-rbac`,
    );
    expect(check.error?.fix).toContain(`--user=${user}`);
    expect(check.error?.fix).toMatch(/caches allowed checks for 5 minutes/);
    // the open connection is not torn down by us (Ray itself decides, with its cache); a fresh connect is refused
    expect((await api.listConnections()).find((x) => x.name === 'rc-rbac')?.state).toBe('ready');
    await api.disconnect(r);
    const refused = await api.connect(r).then(
      (x) => ({ code: `connected:${x.state}` }),
      (e: { code: string }) => e,
    );
    expect(refused.code).toBe('ACCESS_DENIED');
    expect((await api.listConnections()).filter((x) => x.name === 'rc-rbac' && x.state === 'ready')).toEqual(
      [],
    );

    await apply(rbac('ray-writer', [], world.namespace).slice(1));
    await waitFor(async () => (await api.checkAccess(r)).allowed, 30_000, 'access back');
    expect((await api.connect(r)).state).toBe('ready');
    await api.disconnect(r);
  });
});

describe('token-mode cluster: the token Secret rotated, then deleted, while connected', () => {
  it('rotated: Ray refuses the old token (403); asking for the token again (rayToken / connect) picks up the new one, announced as token-rotated', async () => {
    const r = ref('rc-token');
    const c = await api.connect(r);
    expect(c).toMatchObject({ state: 'ready', authMode: 'token', tokenVersion: 1 });
    const old = (await api.rayToken(r)).token;
    expect(old).toBe(rayToken);
    const withToken = (t: string) =>
      fetch(`${c.dashboardUrl}/api/version`, { headers: { authorization: `Bearer ${t}` } }).then(
        (x) => x.status,
      );
    expect(await withToken(old)).toBe(200);

    rayToken = `t2-${randomBytes(16).toString('hex')}`;
    await apply([secret(world.namespace, rayToken)]);
    expect(await withToken(old), 'what a Ray client with the old token sees').toBe(403);
    const since = events.length;
    expect((await api.rayToken(r)).token).toBe(rayToken);
    const again = await api.connect(r);
    expect(again.tokenVersion).toBe(2);
    expect(again.dashboardUrl).toBe(c.dashboardUrl);
    expect((await api.sessionEnv(r)).env.RAY_AUTH_TOKEN).toBe(rayToken);
    expect(await withToken(rayToken)).toBe(200);
    expect(
      events.slice(since).filter((e) => e.type === 'token-rotated'),
      'the host is told once',
    ).toMatchObject([{ type: 'token-rotated', tokenVersion: 2 }]);
  });

  it('deleted: asking for the token says RAY_TOKEN_NOT_FOUND naming the Secret with a fix; the forward keeps working; recreated -> picked up', async () => {
    const r = ref('rc-token');
    await admin(['delete', 'secret', 'rc-token', '-n', world.namespace]);
    const e = await api.rayToken(r).then(
      () => ({ code: 'got a token', message: '', fix: '' }),
      (x: { code: string; message: string; fix?: string }) => x,
    );
    expect(e.code).toBe('RAY_TOKEN_NOT_FOUND');
    expect(e.message).toContain('rc-token');
    expect(e.fix).toContain(`kubectl get secret rc-token -n ${world.namespace}`);
    const c = (await api.listConnections()).find((x) => x.name === 'rc-token')!;
    expect(c.state).toBe('ready');
    expect(await get(`${c.dashboardUrl}/api/authentication_mode`)).toMatchObject({ status: 200 });

    rayToken = `t3-${randomBytes(16).toString('hex')}`;
    await apply([secret(world.namespace, rayToken)]);
    expect((await api.rayToken(r)).token).toBe(rayToken);
    expect((await api.listConnections()).find((x) => x.name === 'rc-token')?.tokenVersion).toBe(3);
    await api.disconnect(r);
  });
});

describe('the kwok node of the head pod deleted while connected', () => {
  let cluster: ExtraCluster;
  beforeAll(async () => {
    await admin(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Node',
        metadata: {
          name: node,
          annotations: { 'kwok.x-k8s.io/node': 'fake' },
          labels: { type: 'kwok', 'kubernetes.io/hostname': node },
        },
      }),
    );
    await waitFor(
      async () =>
        (
          await kubectl([
            'get',
            'node',
            node,
            '-o',
            'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
          ])
        ).stdout === 'True',
      60_000,
      'our node Ready',
    );
    cluster = await addRayCluster(world.namespace, { name: 'rc-node', headPort: world.head.port, node });
  });

  it('the connection says so (reconnecting/failed with an error, bounded); the node back -> ready again on the same URL', async () => {
    const r = ref(cluster.name);
    const c = await api.connect(r);
    expect(c.state).toBe('ready');
    expect(await get(`${c.dashboardUrl}/api/version`)).toMatchObject({ status: 200 });
    await admin(['delete', 'node', node, '--wait=true']);
    // Nothing changes on the pod (no controller evicts it, it still says Running): the API server now refuses the
    // port-forward upgrade, which the first local connections after the loss run into. Each one ends (an error or an
    // answer from the stream opened before), none hangs.
    const outcomes: string[] = [];
    await waitFor(
      async () => {
        const x = await get(`${c.dashboardUrl}/api/version`, 15_000);
        outcomes.push('error' in x ? x.error : String(x.status));
        const now = (await api.listConnections()).find((y) => y.name === cluster.name);
        return now?.state !== 'ready' && now?.error !== undefined;
      },
      60_000,
      'the connection reports the lost node',
    );
    expect(outcomes).not.toContain('TimeoutError');
    const down = (await api.listConnections()).find((x) => x.name === cluster.name)!;
    expect(['reconnecting', 'failed']).toContain(down.state);
    expect(['PORT_FORWARD_FAILED', 'RAY_UNREACHABLE']).toContain(down.error?.code);
    console.log(
      `kwok node gone: ${outcomes.join(',')}; ${down.state} ${down.error?.code}: ${down.error?.message}`,
    );

    await admin(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Node',
        metadata: { name: node, annotations: { 'kwok.x-k8s.io/node': 'fake' } },
      }),
    );
    await waitFor(
      async () => {
        const x = await get(`${c.dashboardUrl}/api/version`, 10_000);
        return 'status' in x && x.status === 200;
      },
      90_000,
      'forward back after the node returns',
    );
    await waitFor(
      async () => (await api.listConnections()).find((x) => x.name === cluster.name)?.state === 'ready',
      60_000,
      'ready again',
    );
    await api.disconnect(r);
  });
});

describe('a head pod that never becomes ready', () => {
  it('connect fails at once with RAYCLUSTER_NOT_READY (the state and a fix), nothing left listening; the listing shows the state', async () => {
    const pending = await addRayCluster(world.namespace, {
      name: 'rc-pending',
      headPort: world.head.port,
      node: null,
      ready: false,
    });
    const list = await api.listRayClusters(clusterId);
    const item = list.items.find((i) => i.name === pending.name);
    expect(item?.state).not.toBe('ready');
    const e = await api.connect(ref(pending.name)).then(
      (x) => ({ code: `connected:${x.state}`, message: '', fix: '' }),
      (x: { code: string; message: string; fix?: string }) => x,
    );
    console.log(
      `head pod never ready: ${item?.state} (${item?.stateReason}); connect: ${e.code}: ${e.message}`,
    );
    expect(e.code).toBe('RAYCLUSTER_NOT_READY');
    expect(e.message).toContain(pending.name);
    expect(e.fix).toBeTruthy();
    expect(
      (await api.listConnections()).filter((x) => x.name === pending.name && x.state !== 'disconnected'),
    ).toEqual([]);
  });
});
