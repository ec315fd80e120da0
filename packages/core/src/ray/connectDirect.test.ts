import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConnectionSummary } from '@ray-connect/shared';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../ports/Clock.js';
import { silentLogger } from '../ports/Logger.js';
import { connectPathSetting, directMayWork, inSubnet } from './choosePath.js';
import { connectRayCluster, type RayConnection } from './connectRayCluster.js';
import { FakeKubeClient } from './fakeKubeClient.js';
import { FakePortForwardServer } from './fakePortForwardServer.js';

const NS = 'ray-demo';
const ref = { clusterId: 'context:test', namespace: NS, name: 'rc' };
const servers: Server[] = [];
let api: FakePortForwardServer;
let kube: FakeKubeClient;
let connection: RayConnection | undefined;
let summaries: ConnectionSummary[] = [];

/** A no-auth Ray dashboard stand-in on host:port (0 = a free port). */
async function dashboard(host: string, port = 0): Promise<number> {
  const s = createServer((req, res) => {
    if (req.url === '/api/authentication_mode') return void res.end('{"authentication_mode":"disabled"}');
    res.end(JSON.stringify({ ray_version: '2.59.0', host }));
  });
  servers.push(s);
  return new Promise((r) => s.listen(port, host, () => r((s.address() as { port: number }).port)));
}

/** The RayCluster (dashboard container port = `port`) and its running head pod at `ip`, also port-forwardable. */
function cluster(ip: string, port: number, pod = 'head-1') {
  kube.on('GET', `/apis/ray.io/v1/namespaces/${NS}/rayclusters/rc`, {
    metadata: { name: 'rc', namespace: NS },
    spec: {
      rayVersion: '2.59.0',
      headGroupSpec: {
        template: {
          spec: { containers: [{ name: 'ray-head', ports: [{ name: 'dashboard', containerPort: port }] }] },
        },
      },
    },
    status: { conditions: [{ type: 'HeadPodReady', status: 'True' }], head: { podName: pod } },
  });
  headPod(ip, pod);
}

function headPod(ip: string, pod: string) {
  const p = {
    metadata: {
      name: pod,
      uid: `uid-${pod}`,
      labels: { 'ray.io/cluster': 'rc', 'ray.io/node-type': 'head' },
    },
    status: { phase: 'Running', podIP: ip },
  };
  for (const k of [...kube.routes.keys()]) if (k.includes('/pods/')) kube.routes.delete(k);
  kube.on('GET', `/api/v1/namespaces/${NS}/pods/${pod}`, p);
  kube.on('GET', `/api/v1/namespaces/${NS}/pods`, { items: [p] });
}

const connect = (env: Record<string, string | undefined>, watchIntervalMs = 0) =>
  connectRayCluster(
    ref,
    {},
    {
      kube,
      clock: systemClock,
      logger: silentLogger,
      tokenDir: mkdtempSync(join(tmpdir(), 'rc-tokens-')),
      onChange: (s) => summaries.push(s),
      env,
      watchIntervalMs,
      backoff: { initialMs: 10, maxMs: 50, attempts: 100 },
    },
  );

beforeEach(async () => {
  summaries = [];
  api = new FakePortForwardServer();
  kube = new FakeKubeClient(await api.start());
});

afterEach(async () => {
  await connection?.stop();
  connection = undefined;
  await api.stop();
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

describe('connect: the direct path', () => {
  it('auto: a reachable head pod IP on this host is used directly; nothing is port-forwarded', async () => {
    const port = await dashboard('127.0.0.1');
    cluster('127.0.0.1', port);
    connection = await connect({});
    expect(connection.summary()).toMatchObject({
      state: 'ready',
      path: 'direct',
      dashboardUrl: `http://127.0.0.1:${port}`,
      clientAddress: 'ray://127.0.0.1:10001',
    });
    expect(connection.sessionEnv().env).toEqual({ RAY_ADDRESS: `http://127.0.0.1:${port}` });
    expect(api.opened).toBe(0);
    expect(kube.requests.some((r) => r.path.endsWith('/portforward'))).toBe(false);
  });

  it('auto: an unreachable head pod IP falls back to the port-forward', async () => {
    const port = await dashboard('127.0.0.1');
    // the pod "listens" on a port nothing serves at its IP; the forward reaches the real dashboard
    cluster('127.0.0.1', 1);
    api.pods.set('head-1', new Map([[1, port]]));
    connection = await connect({});
    expect(connection.summary()).toMatchObject({ state: 'ready', path: 'forward' });
    expect(connection.summary().dashboardUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(api.opened).toBeGreaterThan(0);
  });

  it('auto outside a pod with a pod IP not on this host: the forward, without trying the IP', async () => {
    const port = await dashboard('127.0.0.1');
    cluster('198.51.100.10', 8265); // TEST-NET-2: not on this host's network (check below)
    api.pods.set('head-1', new Map([[8265, port]]));
    const local = Object.values(networkInterfaces()).some((l) =>
      l?.some((i) => inSubnet('198.51.100.10', i.cidr ?? '')),
    );
    connection = await connect({});
    expect(connection.summary().path).toBe(local ? 'direct' : 'forward');
  });

  it('RAY_CONNECT_PATH=direct: an unreachable head is an error naming the setting; =forward forwards', async () => {
    const port = await dashboard('127.0.0.1');
    cluster('127.0.0.1', 1);
    api.pods.set('head-1', new Map([[1, port]]));
    await expect(connect({ RAY_CONNECT_PATH: 'direct' })).rejects.toMatchObject({
      code: 'RAY_UNREACHABLE',
      fix: expect.stringContaining('RAY_CONNECT_PATH=auto'),
    });
    cluster('127.0.0.1', port);
    api.pods.set('head-1', new Map([[port, port]]));
    connection = await connect({ RAY_CONNECT_PATH: 'forward' });
    expect(connection.summary().path).toBe('forward');
    await expect(connect({ RAY_CONNECT_PATH: 'sideways' })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });

  it('follows a replaced head pod to its new IP and bumps the env version', async () => {
    const port = await dashboard('127.0.0.1');
    await dashboard('127.0.0.2', port);
    cluster('127.0.0.1', port);
    connection = await connect({}, 20);
    expect(connection.summary()).toMatchObject({ path: 'direct', tokenVersion: 1 });
    headPod('127.0.0.2', 'head-2');
    await expect
      .poll(() => connection?.summary().dashboardUrl, { timeout: 10_000 })
      .toBe(`http://127.0.0.2:${port}`);
    await expect.poll(() => connection?.summary().state, { timeout: 10_000 }).toBe('ready');
    expect(connection.summary().tokenVersion).toBe(2);
    expect(connection.sessionEnv().env.RAY_ADDRESS).toBe(`http://127.0.0.2:${port}`);
  });
});

describe('choosePath helpers', () => {
  it('connectPathSetting: option over env, auto by default, anything else refused', () => {
    expect(connectPathSetting({})).toBe('auto');
    expect(connectPathSetting({ RAY_CONNECT_PATH: ' Direct ' })).toBe('direct');
    expect(connectPathSetting({ RAY_CONNECT_PATH: 'direct' }, 'forward')).toBe('forward');
    expect(() => connectPathSetting({ RAY_CONNECT_PATH: 'tunnel' })).toThrow(/auto, direct or forward/);
  });
  it('directMayWork: in a pod, or the pod IP in a local subnet', () => {
    const lo = { lo: [{ address: '127.0.0.1', cidr: '127.0.0.1/8' }] } as never;
    expect(directMayWork('127.0.100.7', {}, lo)).toBe(true);
    expect(directMayWork('10.244.1.5', {}, lo)).toBe(false);
    expect(directMayWork('10.244.1.5', { KUBERNETES_SERVICE_HOST: '10.96.0.1' }, lo)).toBe(true);
  });
  it('inSubnet', () => {
    expect(inSubnet('10.1.2.3', '10.1.0.0/16')).toBe(true);
    expect(inSubnet('10.2.0.1', '10.1.0.0/16')).toBe(false);
    expect(inSubnet('1.2.3.4', '0.0.0.0/0')).toBe(true);
    expect(inSubnet('fe80::1', 'fe80::/64')).toBe(false);
  });
});
