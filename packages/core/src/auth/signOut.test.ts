import { describe, expect, it } from 'vitest';
import { MemorySecretStore } from '../ports/SecretStore.js';
import { Secret } from '../secret.js';
import { clusterKey } from '../storage/keys.js';
import { SessionStore } from './sessionStore.js';
import { signOut } from './signOut.js';

describe('signOut', () => {
  it('removes every item of the cluster, says what it removed, and leaves other clusters alone', async () => {
    const store = new MemorySecretStore({ label: 'OS keychain (Secret Service)' });
    const sessions = new SessionStore(store);
    const info = {
      method: 'device' as const,
      issuer: 'https://idp',
      clientId: 'kubernetes',
      signedInAt: 1,
      refreshable: true,
    };
    await sessions.save({
      info: { ...info, clusterId: 'url:https://a:6443' },
      token: new Secret('t1'),
      refreshToken: new Secret('r1'),
    });
    await sessions.save({ info: { ...info, clusterId: 'url:https://a:64430' }, token: new Secret('t2') });
    const result = await signOut('url:https://a:6443', { store });
    expect(result.removed.sort()).toEqual([
      'Kubernetes token (OS keychain (Secret Service))',
      'refresh token (OS keychain (Secret Service))',
      'sign-in details (OS keychain (Secret Service))',
    ]);
    expect(await sessions.load('url:https://a:6443')).toBeUndefined();
    expect(await sessions.load('url:https://a:64430')).toBeDefined();
    expect(await store.get(clusterKey('url:https://a:64430', 'token'))).toBeDefined();
  });

  it('reports nothing when there was nothing', async () => {
    expect(await signOut('nope', { store: new MemorySecretStore() })).toEqual({ removed: [] });
  });
});
