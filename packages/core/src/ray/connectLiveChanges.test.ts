// connectRayCluster when the cluster changes under it: a token Secret rotated or deleted while connected
// (recheckToken), and a RayCluster whose head never became ready (connect fails at once instead of retrying).
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConnectionSummary } from '@ray-connect/shared';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../ports/Clock.js';
import { silentLogger } from '../ports/Logger.js';
import { connectRayCluster, type RayConnection } from './connectRayCluster.js';
import { FakeKubeClient } from './fakeKubeClient.js';
import { FakePortForwardServer } from './fakePortForwardServer.js';

const NS = 'team';
const ref = { clusterId: 'context:test', namespace: NS, name: 'rc' };
const b64 = (t: string) => Buffer.from(t).toString('base64');

let api: FakePortForwardServer;
let kube: FakeKubeClient;
let ray: Server;
let accepted = 'first';
let connection: RayConnection | undefined;
const summaries: ConnectionSummary[] = [];

function rayCluster(ready: boolean) {
  return {
    metadata: { name: 'rc', namespace: NS },
    spec: {
      rayVersion: '2.55.0',
      authOptions: { mode: 'token' },
      headGroupSpec: { template: { spec: { containers: [{ name: 'ray-head' }] } } },
    },
    status: {
      conditions: [
        ready
          ? { type: 'HeadPodReady', status: 'True' }
          : { type: 'HeadPodReady', status: 'False', reason: 'HeadPodNotReady', message: 'Pending' },
      ],
      head: { podName: 'head-1' },
    },
  };
}

const deps = () => ({
  kube,
  clock: systemClock,
  logger: silentLogger,
  tokenDir: mkdtempSync(join(tmpdir(), 'rc-tokens-')),
  onChange: (s: ConnectionSummary) => summaries.push(s),
  watchIntervalMs: 0,
  backoff: { initialMs: 10, maxMs: 50, attempts: 200 },
});

beforeEach(async () => {
  accepted = 'first';
  summaries.length = 0;
  ray = createServer((req, res) => {
    if (req.url === '/api/authentication_mode') return void res.end('{"authentication_mode":"token"}');
    if (req.headers.authorization !== `Bearer ${accepted}`) return void res.writeHead(403).end();
    res.end('{}');
  });
  const rayPort = await new Promise<number>((r) =>
    ray.listen(0, '127.0.0.1', () => r((ray.address() as { port: number }).port)),
  );
  api = new FakePortForwardServer();
  kube = new FakeKubeClient(await api.start());
  api.pods.set(
    'head-1',
    new Map([
      [8265, rayPort],
      [10001, rayPort],
    ]),
  );
  kube.on('GET', `/api/v1/namespaces/${NS}/secrets/rc`, { data: { auth_token: b64('first') } });
});

afterEach(async () => {
  await connection?.stop();
  connection = undefined;
  await api.stop();
  ray.closeAllConnections();
  await new Promise((r) => ray.close(r));
});

const runningPod = {
  metadata: { name: 'head-1', uid: 'u1', labels: { 'ray.io/cluster': 'rc', 'ray.io/node-type': 'head' } },
  status: { phase: 'Running' },
};

describe('connectRayCluster: changes while connected', () => {
  it('recheckToken: a rotated Secret is picked up (version + 1, onChange); a deleted one throws RAY_TOKEN_NOT_FOUND and keeps the token', async () => {
    kube.on('GET', `/apis/ray.io/v1/namespaces/${NS}/rayclusters/rc`, rayCluster(true));
    kube.on('GET', `/api/v1/namespaces/${NS}/pods/head-1`, runningPod);
    kube.on('GET', `/api/v1/namespaces/${NS}/pods`, { items: [runningPod] });
    connection = await connectRayCluster(ref, {}, deps());
    expect(connection.summary()).toMatchObject({ state: 'ready', tokenVersion: 1 });
    expect((await connection.recheckToken())?.token.reveal()).toBe('first');
    expect(connection.summary().tokenVersion).toBe(1);

    kube.on('GET', `/api/v1/namespaces/${NS}/secrets/rc`, { data: { auth_token: b64('second') } });
    const before = summaries.length;
    expect((await connection.recheckToken())?.token.reveal()).toBe('second');
    expect(connection.summary().tokenVersion).toBe(2);
    expect(connection.sessionEnv().env.RAY_AUTH_TOKEN).toBe('second');
    expect(summaries.slice(before).map((s) => s.tokenVersion)).toEqual([2]);

    kube.routes.delete(`GET /api/v1/namespaces/${NS}/secrets/rc`);
    await expect(connection.recheckToken()).rejects.toMatchObject({ code: 'RAY_TOKEN_NOT_FOUND' });
    expect(connection.token()?.token.reveal()).toBe('second');
    expect(connection.summary().state).toBe('ready');
  });

  it('a RayCluster whose head is not ready and has no running head pod -> RAYCLUSTER_NOT_READY at once, with the reason and a fix', async () => {
    kube.on('GET', `/apis/ray.io/v1/namespaces/${NS}/rayclusters/rc`, rayCluster(false));
    kube.on('GET', `/api/v1/namespaces/${NS}/pods/head-1`, { ...runningPod, status: { phase: 'Pending' } });
    kube.on('GET', `/api/v1/namespaces/${NS}/pods`, {
      items: [{ ...runningPod, status: { phase: 'Pending' } }],
    });
    const e = await connectRayCluster(ref, {}, deps()).catch((x: unknown) => x);
    expect(e).toMatchObject({
      code: 'RAYCLUSTER_NOT_READY',
      message: expect.stringContaining('no head pod is running'),
      fix: expect.stringContaining('kubectl get raycluster rc -n team'),
    });
    expect(summaries).toEqual([]);
    expect(api.sockets.size).toBe(0);
  });

  it('not ready per its status, but a head pod runs -> connects (the status may lag)', async () => {
    kube.on('GET', `/apis/ray.io/v1/namespaces/${NS}/rayclusters/rc`, rayCluster(false));
    kube.on('GET', `/api/v1/namespaces/${NS}/pods/head-1`, runningPod);
    kube.on('GET', `/api/v1/namespaces/${NS}/pods`, { items: [runningPod] });
    connection = await connectRayCluster(ref, {}, deps());
    expect(connection.summary().state).toBe('ready');
  });
});
