// Port-forward against the sandbox: the real kube-apiserver and kwok forwarding to a real Ray head.
// 100 concurrent HTTP requests through one forward; deleting and recreating the head pod -> the forward recovers.
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectionSummary, RayClusterRef } from '../../../shared/src/index.js';
import { facade, recreatePod, sandbox, userKubeconfig } from './helpers.js';

function get(url: string, path: string, token?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url + path,
      { agent: false, headers: token ? { authorization: `Bearer ${token}` } : {} },
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

describe('port-forward to a real Ray head (sandbox)', () => {
  const s = sandbox();
  let api: ReturnType<typeof facade>;
  let ref: RayClusterRef;
  let summary: ConnectionSummary;
  let token: string;
  const states: string[] = [];

  beforeAll(async () => {
    api = facade(await userKubeconfig('alice'));
    const clusterId = (await api.listClusters())[0]?.id ?? '';
    ref = { clusterId, namespace: s.namespace, name: s.rayClusters.token ?? 'raycluster-token' };
    api.onEvent((e) => {
      if (e.type === 'connection-changed') states.push(e.connection.state);
    });
    summary = await api.connect(ref);
    token = (await api.rayToken(ref)).token;
  });
  afterAll(async () => {
    await api?.close();
  });

  it('connects ready, with the head answering token auth', async () => {
    expect(summary.state).toBe('ready');
    expect(summary.authMode).toBe('token');
    expect((await get(summary.dashboardUrl!, '/api/authentication_mode')).body).toContain('token');
    expect((await get(summary.dashboardUrl!, '/api/version')).status).toBe(401);
    expect((await get(summary.dashboardUrl!, '/api/version', 'wrong-token')).status).toBe(403);
  });

  it('100 concurrent HTTP requests through one forward all complete', async () => {
    const results = await Promise.all(
      Array.from({ length: 100 }, () => get(summary.dashboardUrl!, '/api/version', token)),
    );
    expect(results.filter((r) => r.status === 200).length).toBe(100);
    for (const r of results) expect(JSON.parse(r.body)).toHaveProperty('ray_version');
  });

  it('deleting and recreating the head pod: the forward recovers by itself', async () => {
    const pod = s.rayClusterDetails.token?.headPod ?? '';
    states.length = 0;
    await recreatePod(pod, s.namespace);
    await expect.poll(() => states.includes('reconnecting'), { timeout: 60_000, interval: 250 }).toBe(true);
    await expect
      .poll(async () => (await api.listConnections())[0]?.state, { timeout: 90_000, interval: 500 })
      .toBe('ready');
    const after = await get(summary.dashboardUrl!, '/api/version', token);
    expect(after.status).toBe(200);
    expect((await api.listConnections())[0]?.dashboardUrl).toBe(summary.dashboardUrl);
  });

  it('several clusters at once: token, RBAC and no-auth clusters side by side', async () => {
    const others = ['rbac', 'noauth'].map((k) => ({ ...ref, name: s.rayClusters[k] ?? '' }));
    const connected = await Promise.all(others.map((r) => api.connect(r)));
    expect(connected.map((c) => c.state)).toEqual(['ready', 'ready']);
    const ports = new Set([summary.dashboardUrl, ...connected.map((c) => c.dashboardUrl)]);
    expect(ports.size).toBe(3);
    const rbacToken = (await api.rayToken(others[0]!)).token;
    expect((await get(connected[0]!.dashboardUrl!, '/api/version', rbacToken)).status).toBe(200);
    expect((await get(connected[1]!.dashboardUrl!, '/api/version')).status).toBe(200);
    expect((await api.sessionEnv(others[1]!)).env).toEqual({ RAY_ADDRESS: connected[1]!.dashboardUrl });
    expect((await api.listConnections()).length).toBe(3);
    for (const r of others) await api.disconnect(r);
  });

  it('disconnect says what it removed and nothing listens afterwards', async () => {
    const { removed } = await api.disconnect(ref);
    expect(removed.join('\n')).toMatch(/port-forward 127\.0\.0\.1:\d+ -> raycluster-token:8265/);
    await expect(get(summary.dashboardUrl!, '/api/version', token)).rejects.toMatchObject({
      code: 'ECONNREFUSED',
    });
  });
});
