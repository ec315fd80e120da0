import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RayConnectEvent } from '@ray-connect/shared';
import { FakeRayConnectApi } from './fakeApi';
import { LazyApi } from './lazyApi';

describe('LazyApi', () => {
  it('loads nothing until the first call, then once; calls pass through', async () => {
    let loads = 0;
    const real = new FakeRayConnectApi();
    const api = new LazyApi(async () => {
      loads++;
      return real;
    });
    expect(loads).toBe(0);
    expect(api.loaded).toBe(false);
    const [a, b] = await Promise.all([api.listClusters(), api.listConnections()]);
    expect(loads).toBe(1);
    expect(api.loaded).toBe(true);
    expect(a).toEqual(await real.listClusters());
    expect(b).toEqual([]);
    await api.version();
    expect(loads).toBe(1);
  });

  it('attaches listeners registered before the load, and unsubscribes', async () => {
    const real = new FakeRayConnectApi();
    const api = new LazyApi(async () => real);
    const seen: RayConnectEvent['type'][] = [];
    const off = api.onEvent((e) => seen.push(e.type));
    const clusterId = (await api.listClusters())[0]!.id;
    await api.beginSignIn(clusterId, { method: 'token', token: 't' });
    expect(seen).toContain('sign-in-changed');
    off();
    const before = seen.length;
    await api.signOut(clusterId);
    expect(seen.length).toBe(before);
  });

  it('tries the load again after it failed (Retry)', async () => {
    let attempt = 0;
    const api = new LazyApi(async () => {
      if (++attempt === 1) throw new Error('core bundle missing');
      return new FakeRayConnectApi();
    });
    await expect(api.listClusters()).rejects.toThrow('core bundle missing');
    await expect(api.listClusters()).resolves.toBeInstanceOf(Array);
    expect(attempt).toBe(2);
  });
});

describe('activation entry', () => {
  it('imports the core only through loadCore (type imports aside)', () => {
    const src = readFileSync(join(__dirname, '..', 'extension.ts'), 'utf8');
    expect(src).not.toMatch(/^import (?!type)[^;]*from '@ray-connect\/core'/m);
    expect(src).not.toMatch(/^import (?!type)[^;]*from '\.\/api\/createApi'/m);
    expect(src).not.toMatch(/^import (?!type)[^;]*from '\.\/host\/secretStore'/m);
  });
});
