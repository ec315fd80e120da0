// Load in our own namespace: 100 concurrent requests through one forward all complete; 20 forwards (20 facades,
// one forward each) held for RC_FAULTS_SOAK_SECONDS (default 30; `RC_FAULTS_SOAK_SECONDS=600` is the 10-minute
// soak) with traffic on each, then closed: socket fds, active handles and listeners back to the baseline. RSS, heap,
// sockets and handles are logged once a minute, not asserted.
import { readdirSync, readlinkSync } from 'node:fs';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorld, get, waitFor, type World } from '../world.js';

const SOAK_S = Math.max(5, Number(process.env.RC_FAULTS_SOAK_SECONDS) || 30);

let world: World;
beforeAll(async () => {
  world = await createWorld();
});
afterAll(async () => {
  await world?.dispose();
});

function socketFds(): number {
  let n = -headSide();
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`).startsWith('socket:')) n++;
    } catch {
      // closed meanwhile
    }
  }
  return n;
}
const activeHandles = () =>
  (process as unknown as { _getActiveHandles(): { localPort?: number }[] })._getActiveHandles();
/**
 * Sockets the fake Ray head (hosted in this process) accepted from kwok. kwok keeps its TCP connection to the
 * target open after a port-forward stream ends; that is the sandbox's fake kubelet, not Ray Connect, so they are
 * not counted.
 */
const headSide = () =>
  activeHandles().filter((h) => h.constructor?.name === 'Socket' && h.localPort === world.head.port).length;
const handles = () => activeHandles().length - headSide();
const rssMb = () => Math.round(process.memoryUsage().rss / 1024 / 1024);
const refused = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.on('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.on('error', () => resolve(true));
  });

describe('load', () => {
  it('100 concurrent requests through one forward all complete with the full body', async () => {
    const api = world.facade();
    const clusterId = (await api.listClusters())[0]!.id;
    const ref = { clusterId, namespace: world.namespace, name: world.cluster };
    const c = await api.connect(ref);
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => get(`${c.dashboardUrl}/bytes?n=${10_000 + i}`, 120_000)),
    );
    const ok = results.filter((r, i) => 'status' in r && r.status === 200 && r.length === 10_000 + i).length;
    expect(ok, JSON.stringify(results.filter((r) => !('status' in r)).slice(0, 3))).toBe(100);
    await api.disconnect(ref);
    await api.close();
  });

  it(
    `20 forwards held ~${SOAK_S} s with traffic, then closed: no leaked sockets, handles or listeners (kwok-side sockets of the fake head excluded)`,
    async () => {
      // baseline after one warm-up round so lazily created singletons (undici pools, TLS session cache) are counted
      const warm = world.facade();
      const warmId = (await warm.listClusters())[0]!.id;
      await warm.connect({ clusterId: warmId, namespace: world.namespace, name: world.cluster });
      await warm.close();
      await new Promise((r) => setTimeout(r, 2000));
      const base = { sockets: socketFds(), handles: handles(), rss: rssMb() };

      const facades = Array.from({ length: 20 }, () => world.facade());
      const urls: string[] = [];
      for (const f of facades) {
        const clusterId = (await f.listClusters())[0]!.id;
        const c = await f.connect({ clusterId, namespace: world.namespace, name: world.cluster });
        expect(c.state).toBe('ready');
        urls.push(c.dashboardUrl!);
      }
      expect(new Set(urls).size).toBe(20);
      const peak = { sockets: socketFds(), handles: handles(), rss: rssMb() };
      const start = Date.now();
      const end = start + SOAK_S * 1000;
      let rounds = 0;
      // one sample a minute (and the last one): a soak shows the trend, not just the end points
      const samples: string[] = [];
      let nextSample = start + 60_000;
      while (Date.now() < end) {
        const results = await Promise.all(urls.map((u) => get(`${u}/bytes?n=50000`, 60_000)));
        expect(results.every((r) => 'status' in r && r.status === 200 && r.length === 50_000)).toBe(true);
        rounds++;
        if (Date.now() >= nextSample) {
          nextSample += 60_000;
          samples.push(
            `${Math.round((Date.now() - start) / 1000)}s: rss ${rssMb()} MB heap ${Math.round(process.memoryUsage().heapUsed / 2 ** 20)} MB sockets ${socketFds()} handles ${handles()}`,
          );
        }
        await new Promise((r) => setTimeout(r, 1000));
      }
      const held = { sockets: socketFds(), handles: handles(), rss: rssMb() };
      for (const f of facades) await f.close();
      const ports = urls.map((u) => Number(new URL(u).port));
      for (const p of ports) expect(await refused(p), `port ${p} still listening`).toBe(true);
      // sockets close asynchronously (server-side keep-alive of the fake head ends after 1 s)
      await waitFor(
        () => socketFds() <= base.sockets && handles() <= base.handles,
        30_000,
        'sockets and handles back to baseline',
      ).catch(() => undefined);
      const after = { sockets: socketFds(), handles: handles(), rss: rssMb() };
      console.log(
        `load: 20 forwards, ${rounds} rounds x 20 requests over ~${SOAK_S} s; base ${JSON.stringify(base)} peak ${JSON.stringify(peak)} held ${JSON.stringify(held)} after ${JSON.stringify(after)}${samples.length ? `\nload samples:\n  ${samples.join('\n  ')}` : ''}`,
      );
      expect(after.sockets).toBeLessThanOrEqual(base.sockets);
      expect(after.handles).toBeLessThanOrEqual(base.handles);
    },
    SOAK_S * 1000 + 240_000,
  );
});
