import { describe, expect, it } from 'vitest';
import { MemoryLogger } from '@ray-connect/core';
import { buildViewModel, flattenNodes } from '@ray-connect/shared';
import { FakeRayConnectApi } from './api/fakeApi';
import { Store } from './state';

describe('Store with the fake API', () => {
  it('follows sign-in and connection events into the view model', async () => {
    const api = new FakeRayConnectApi();
    const store = new Store(api, new MemoryLogger());
    store.start();
    await store.refresh();
    expect(store.anySignedIn()).toBe(false);
    await api.beginSignIn('context:demo', { method: 'token', token: 't' });
    await store.refreshRayClusters('context:demo');
    expect(store.anySignedIn()).toBe(true);
    const ref = { clusterId: 'context:demo', namespace: 'team-a', name: 'raycluster-rbac' };
    await api.connect(ref);
    const vm = buildViewModel({
      clusters: store.clusters,
      rayClusters: store.rayClusters,
      connections: store.connections,
      now: Date.now(),
    });
    const labels = flattenNodes(vm.nodes).map((n) => `${n.label}|${n.description}`);
    expect(labels).toContain('raycluster-rbac|Kubernetes RBAC - ready - connected');
    expect(labels).toContain('raycluster-token|token auth - ready');
    expect(labels).toContain('raycluster-noauth|no auth - ready');
    await api.signOut('context:demo');
    expect(store.liveConnections()).toEqual([]);
    expect(store.anySignedIn()).toBe(false);
  });
  it('device sign-in completes when approved and can be cancelled', async () => {
    const api = new FakeRayConnectApi();
    const p = await api.beginSignIn('context:demo', { method: 'device' });
    expect(p.kind).toBe('device');
    if (p.kind !== 'device') return;
    api.approve(p.loginId);
    await expect(api.completeSignIn(p.loginId)).resolves.toMatchObject({ status: 'signed-in' });
    const q = await api.beginSignIn('context:demo', { method: 'device' });
    if (q.kind !== 'device') return;
    await api.cancelSignIn(q.loginId);
    await expect(api.completeSignIn(q.loginId)).rejects.toMatchObject({ code: 'LOGIN_NOT_FOUND' });
  });
});
