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

  it('with configDir, waits for a refresh holding the lock, so the session cannot come back', async () => {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { acquireFileLock } = await import('./fileLock.js');
    const { refreshLockPath } = await import('./refreshSession.js');
    const configDir = mkdtempSync(join(tmpdir(), 'rc-signout-'));
    const store = new MemorySecretStore();
    const sessions = new SessionStore(store);
    const info = { clusterId: 'c', method: 'token' as const, signedInAt: 1, refreshable: false };
    await sessions.save({ info, token: new Secret('old') });
    const release = await acquireFileLock(refreshLockPath(configDir, 'c'));
    const out = signOut('c', { store, configDir });
    await sessions.save({ info, token: new Secret('saved by the refresh') }); // the lock holder finishes its save
    await release();
    expect((await out).removed).toHaveLength(2);
    expect(await sessions.load('c')).toBeUndefined();
  });

  it('reports nothing when there was nothing', async () => {
    expect(await signOut('nope', { store: new MemorySecretStore() })).toEqual({ removed: [] });
  });
});
