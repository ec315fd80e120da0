// The direct path against the sandbox: head pods with loopback pod IPs (kwok, our node's podCIDR) and the sandbox's
// pod-network relay in front of the real Ray heads. Reachable head -> the pod IP is used, no port-forward, and a
// ServiceAccount without `pods/portforward` connects; unreachable head -> the port-forward; neither -> the error
// names the missing right. A replaced head pod: the connection follows it to its new IP.
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RayClusterRef, RayConnectEvent } from '../../../shared/src/index.js';
import { createDirectWorld, type DirectCluster, type DirectWorld } from './directWorld.js';
import { facade } from './helpers.js';

const tcpOpens = (host: string, port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect({ host, port, timeout: 5000 });
    const done = (ok: boolean) => (s.destroy(), resolve(ok));
    s.once('connect', () => done(true))
      .once('error', () => done(false))
      .once('timeout', () => done(false));
  });

describe('the direct path to the head pod (sandbox pod network)', () => {
  let world: DirectWorld;
  let reachable: DirectCluster;
  let blocked: DirectCluster;
  const apis: ReturnType<typeof facade>[] = [];
  const open = async (who: 'forward' | 'noForward') => {
    const api = facade(await world.kubeconfig(who));
    apis.push(api);
    const clusterId = (await api.listClusters())[0]?.id ?? '';
    const ref = (name: string): RayClusterRef => ({ clusterId, namespace: world.namespace, name });
    return { api, ref };
  };

  beforeAll(async () => {
    world = await createDirectWorld();
    reachable = await world.addCluster({ name: 'direct-token', head: 'token', reachable: true });
    blocked = await world.addCluster({ name: 'blocked-noauth', head: 'noauth', reachable: false });
  }, 180_000);
  afterAll(async () => {
    for (const a of apis) await a.close();
    await world?.dispose();
  });

  it('a reachable head: the pod IP directly, token auth works, for a user without pods/portforward', async () => {
    const { api, ref } = await open('noForward');
    const ip = await reachable.podIp();
    const summary = await api.connect(ref(reachable.name));
    expect(summary).toMatchObject({
      state: 'ready',
      path: 'direct',
      authMode: 'token',
      dashboardUrl: `http://${ip}:8265`,
      clientAddress: `ray://${ip}:10001`,
    });
    const env = (await api.sessionEnv(ref(reachable.name))).env;
    expect(env.RAY_ADDRESS).toBe(`http://${ip}:8265`);
    const jobs = await fetch(`${env.RAY_ADDRESS}/api/jobs/`, {
      headers: { authorization: `Bearer ${env.RAY_AUTH_TOKEN}` },
    });
    expect(jobs.status).toBe(200);
    expect((await fetch(`${env.RAY_ADDRESS}/api/jobs/`)).status).toBe(401);
    // the Ray Client port of the head answers at the pod IP too
    expect(await tcpOpens(ip, 10001)).toBe(true);
    await api.disconnect(ref(reachable.name));
  });

  it('an unreachable head pod IP: falls back to the port-forward', async () => {
    const { api, ref } = await open('forward');
    const summary = await api.connect(ref(blocked.name));
    expect(summary).toMatchObject({ state: 'ready', path: 'forward', authMode: 'none' });
    expect(summary.dashboardUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const r = await fetch(`${summary.dashboardUrl}/api/version`);
    expect(r.status).toBe(200);
    await api.disconnect(ref(blocked.name));
  });

  it('no pods/portforward and an unreachable head: the error names the missing right', async () => {
    const { api, ref } = await open('noForward');
    const failure = await api.connect(ref(blocked.name)).then(
      () => undefined,
      (e: unknown) => e as { code: string; message: string; fix?: string },
    );
    expect(failure?.code).toBe('ACCESS_DENIED');
    expect(`${failure?.message} ${failure?.fix}`).toContain('pods/portforward');
    expect(failure?.message).toContain('direct path was not reachable either');
  });

  it('the head pod is replaced: the direct address follows to the new pod IP (env version bumped)', async () => {
    const { api, ref } = await open('noForward');
    const events: RayConnectEvent[] = [];
    api.onEvent((e) => events.push(e));
    const before = await api.connect(ref(reachable.name));
    expect(before.path).toBe('direct');
    await reachable.replaceHead();
    const ip = await reachable.podIp();
    expect(`http://${ip}:8265`).not.toBe(before.dashboardUrl);
    await expect
      .poll(async () => (await api.listConnections())[0], { timeout: 60_000, interval: 500 })
      .toMatchObject({ state: 'ready', path: 'direct', dashboardUrl: `http://${ip}:8265` });
    expect(events.some((e) => e.type === 'token-rotated')).toBe(true);
    const env = (await api.sessionEnv(ref(reachable.name))).env;
    expect(env.RAY_ADDRESS).toBe(`http://${ip}:8265`);
    const jobs = await fetch(`${env.RAY_ADDRESS}/api/jobs/`, {
      headers: { authorization: `Bearer ${env.RAY_AUTH_TOKEN}` },
    });
    expect(jobs.status).toBe(200);
  });
});
