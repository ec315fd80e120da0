// Faults with recovery, in our own namespace (test/faults/world.ts): the API server going away (a TCP proxy in
// front of it stopped/cut, then started again on the same port) during listing and during an active forward; the
// head pod deleted and recreated during a forward; the forward's websocket cut mid-transfer; a busy local port.
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RayConnect } from '../../../packages/core/src/index.js';
import { createToken } from '../../sandbox/client.mjs';
import { sandbox } from '../helpers.js';
import { createWorld, get, waitFor, type World } from '../world.js';

let world: World;
let api: RayConnect;
let clusterId = '';

beforeAll(async () => {
  world = await createWorld();
  api = world.facade();
  clusterId = (await api.listClusters())[0]!.id;
});
afterAll(async () => {
  await world?.dispose();
});

const ref = () => ({ clusterId, namespace: world.namespace, name: world.cluster });

describe('API server away during listing', () => {
  it('listing while it is down -> CLUSTER_UNREACHABLE; after restart the same facade lists again', async () => {
    const before = await api.listRayClusters(clusterId);
    expect(before.items.map((i) => i.name)).toEqual([world.cluster]);
    await world.proxy.stop();
    try {
      const down = await api.listRayClusters(clusterId).then(
        (l) => l.errors.map((e) => e.error.code),
        (e: { code?: string }) => [e.code],
      );
      expect(down).toEqual(['CLUSTER_UNREACHABLE']);
    } finally {
      await world.proxy.start();
    }
    await waitFor(
      async () => (await api.listRayClusters(clusterId)).items.length === 1,
      60_000,
      'listing after restart',
    );
  });

  it('cut mid-session (open keep-alive connections destroyed) -> the next listing just works', async () => {
    await api.listRayClusters(clusterId);
    world.proxy.cut();
    const after = await api.listRayClusters(clusterId);
    expect(after.errors).toEqual([]);
    expect(after.items.length).toBe(1);
  });
});

describe('API server away during sign-in', () => {
  it('a pasted-token sign-in while it is down -> CLUSTER_UNREACHABLE, nothing kept; after restart the same sign-in works', async () => {
    const other = world.facade();
    const id = (await other.listClusters())[0]!.id;
    const token = await createToken(sandbox().namespace, 'ray-user', { expirationSeconds: 600 });
    await world.proxy.stop();
    let code: string | undefined;
    try {
      const r = await other.beginSignIn(id, { method: 'token', token }).then(
        (p) => (p.kind === 'done' ? (p.state.error?.code ?? p.state.status) : p.kind),
        (e: { code?: string }) => e.code,
      );
      code = r;
    } finally {
      await world.proxy.start();
    }
    expect(code).toBe('CLUSTER_UNREACHABLE');
    const summary = (await other.listClusters()).find((c) => c.id === id);
    expect(summary?.signIn.method).not.toBe('token');
    const again = await other.beginSignIn(id, { method: 'token', token });
    expect(again.kind === 'done' && again.state.status).toBe('signed-in');
    expect((await other.listClusters()).find((c) => c.id === id)?.signIn.identity?.username).toBe(
      `system:serviceaccount:${sandbox().namespace}:ray-user`,
    );
  });
});

describe('active forward', () => {
  let url = '';
  beforeAll(async () => {
    const c = await api.connect(ref());
    expect(c.state).toBe('ready');
    url = c.dashboardUrl!;
    expect(await get(`${url}/api/version`)).toMatchObject({ status: 200 });
  });
  afterAll(async () => {
    await api.disconnect(ref()).catch(() => undefined);
  });

  it('API server stopped: the connection says reconnecting (CLUSTER_UNREACHABLE); a request made during the outage waits and completes after restart', async () => {
    await world.proxy.stop();
    let pending: ReturnType<typeof get> | undefined;
    try {
      // a stream breaks (cut by the stop) or the pod check fails: the supervisor notices
      pending = get(`${url}/api/version`, 120_000);
      await waitFor(
        async () => (await api.listConnections())[0]?.state === 'reconnecting',
        60_000,
        'reconnecting',
      );
      const c = (await api.listConnections())[0];
      expect(c?.error?.code ?? 'CLUSTER_UNREACHABLE').toBe('CLUSTER_UNREACHABLE');
    } finally {
      await world.proxy.start();
    }
    expect(await pending).toMatchObject({ status: 200 });
    await waitFor(
      async () => (await api.listConnections())[0]?.state === 'ready',
      60_000,
      'connection ready again',
    );
    expect(await get(`${url}/api/version`)).toMatchObject({ status: 200 });
  });

  it('head pod deleted and recreated during the forward -> recovers by itself on the same URL', async () => {
    await world.recreatePod();
    await waitFor(
      async () => {
        const r = await get(`${url}/api/version`);
        return 'status' in r && r.status === 200;
      },
      90_000,
      'forward after pod recreate',
    );
    await waitFor(
      async () => (await api.listConnections())[0]?.state === 'ready',
      60_000,
      'connection ready',
    );
    expect((await api.listConnections())[0]?.dashboardUrl).toBe(url);
  });

  it('websocket cut mid-transfer: the local client sees a closed connection (not a hang); the next request works', async () => {
    const controller = new AbortController();
    const guard = setTimeout(() => controller.abort(), 60_000);
    const res = await fetch(`${url}/slow`, { signal: controller.signal });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    let got = 0;
    while (got < 64 * 1024) got += (await reader.read()).value?.byteLength ?? 0;
    world.proxy.cut(); // every websocket to the API server dies now
    let outcome = 'hang';
    try {
      for (;;) {
        const r = await reader.read();
        if (r.done) {
          outcome = 'ended';
          break;
        }
      }
    } catch (e) {
      outcome = controller.signal.aborted ? 'hang' : `error:${(e as Error).name}`;
    }
    clearTimeout(guard);
    expect(outcome).not.toBe('hang');
    await waitFor(
      async () => {
        const r = await get(`${url}/bytes?n=100000`);
        return 'status' in r && r.status === 200 && r.length === 100000;
      },
      60_000,
      'a new transfer after the cut',
    );
  });

  it('head pod deleted (not recreated): the connection says reconnecting; a request made meanwhile completes once the pod is back', async () => {
    await world.deletePod();
    let pending: ReturnType<typeof get> | undefined;
    try {
      await waitFor(
        async () => ['reconnecting', 'failed'].includes((await api.listConnections())[0]?.state ?? ''),
        60_000,
        'reconnecting',
      );
      pending = get(`${url}/api/version`, 120_000);
    } finally {
      await world.createPod();
    }
    expect(await pending).toMatchObject({ status: 200 });
    await waitFor(async () => (await api.listConnections())[0]?.state === 'ready', 60_000, 'ready');
  });
});

describe('local port already in use', () => {
  let holder: Server;
  let port = 0;
  beforeAll(async () => {
    holder = createServer((s) => s.end('holder'));
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
    port = (holder.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((r) => holder.close(() => r())));

  it('a fixed dashboard port that is taken -> PORT_IN_USE naming it; the holder keeps its port; a free port then works', async () => {
    const other = world.facade();
    const e = await other.connect(ref(), { dashboardPort: port }).then(
      (c) => c.error ?? { code: `connected:${c.state}` },
      (x: { code: string; message: string }) => x,
    );
    expect(e.code).toBe('PORT_IN_USE');
    expect(e.message).toContain(String(port));
    expect(holder.listening).toBe(true);
    const ok = await other.connect(ref());
    expect(ok.state).toBe('ready');
    await other.disconnect(ref());
  });
});
