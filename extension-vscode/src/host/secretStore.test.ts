import { describe, expect, it } from 'vitest';
import { Secret } from '@ray-connect/core';
import { SECRET_INDEX_KEY, VsCodeSecretStore } from './secretStore';

function fakes() {
  const secrets = new Map<string, string>();
  const state = new Map<string, unknown>();
  const storage = {
    get: async (k: string) => secrets.get(k),
    store: async (k: string, v: string) => void secrets.set(k, v),
    delete: async (k: string) => void secrets.delete(k),
  };
  const memento = {
    get: <T>(k: string, d?: T) => (state.has(k) ? (state.get(k) as T) : d) as T,
    update: async (k: string, v: unknown) => void state.set(k, v),
  };
  return { secrets, state, store: new VsCodeSecretStore(storage as never, memento as never) };
}

describe('VsCodeSecretStore', () => {
  it('stores values in SecretStorage and only key names in global state', async () => {
    const { secrets, state, store } = fakes();
    await Promise.all([
      store.set('cluster/a/refresh', new Secret('r1')),
      store.set('cluster/a/id', new Secret('i1')),
      store.set('cluster/b/id', new Secret('i2')),
    ]);
    expect(secrets.get('cluster/a/refresh')).toBe('r1');
    expect((await store.get('cluster/a/id'))?.reveal()).toBe('i1');
    expect(JSON.stringify([...state.values()])).not.toContain('r1');
    expect((await store.keys('cluster/a/')).sort()).toEqual(['cluster/a/id', 'cluster/a/refresh']);
    expect(store.info.kind).toBe('vscode-secret-storage');
  });
  it('delete removes the value and the index entry, and says whether it existed', async () => {
    const { state, store } = fakes();
    await store.set('k', new Secret('v'));
    expect(await store.delete('k')).toBe(true);
    expect(await store.delete('k')).toBe(false);
    expect(await store.get('k')).toBeUndefined();
    expect(state.get(SECRET_INDEX_KEY)).toEqual([]);
  });
  it('maps storage failures to SECRET_STORE_FAILED', async () => {
    const store = new VsCodeSecretStore(
      {
        get: async () => {
          throw new Error('boom');
        },
        store: async () => undefined,
        delete: async () => undefined,
      } as never,
      { get: () => [], update: async () => undefined } as never,
    );
    await expect(store.get('k')).rejects.toMatchObject({ code: 'SECRET_STORE_FAILED' });
  });
});
