import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MemorySecretStore } from '../ports/SecretStore.js';
import { Secret } from '../secret.js';
import { signInStateOf } from './session.js';
import { SessionStore } from './sessionStore.js';

describe('SessionStore', () => {
  it('keeps tokens as separate secrets and the info as plain JSON, namespaced by cluster, issuer and client', async () => {
    const store = new MemorySecretStore();
    const sessions = new SessionStore(store);
    await sessions.save({
      info: {
        clusterId: 'context:kind/a',
        method: 'device',
        issuer: 'https://idp:5556',
        clientId: 'kubernetes',
        signedInAt: 1,
        refreshable: false,
      },
      token: new Secret('id-token'),
      refreshToken: new Secret('refresh'),
    });
    expect((await store.keys('ray-connect/')).sort()).toEqual([
      'ray-connect/context%3Akind%2Fa/oidc/https%3A%2F%2Fidp%3A5556/kubernetes/refresh-token',
      'ray-connect/context%3Akind%2Fa/session',
      'ray-connect/context%3Akind%2Fa/token',
    ]);
    const info = (await store.get('ray-connect/context%3Akind%2Fa/session'))?.reveal() ?? '';
    expect(info).not.toContain('id-token');
    expect(JSON.parse(info)).toMatchObject({ refreshable: true });
    const loaded = await sessions.load('context:kind/a');
    expect(loaded?.refreshToken?.reveal()).toBe('refresh');
  });

  it('says a damaged record is damaged', async () => {
    const store = new MemorySecretStore();
    await store.set(
      'ray-connect/c1/session',
      new Secret(
        readFileSync(new URL('../../testdata/auth/truncated-session.json', import.meta.url), 'utf8'),
      ),
    );
    await expect(new SessionStore(store).load('c1')).rejects.toMatchObject({ code: 'SECRET_STORE_FAILED' });
  });

  it('turns info into the state hosts show', () => {
    const base = { clusterId: 'c', method: 'device' as const, signedInAt: 0 };
    expect(signInStateOf(undefined, 0)).toEqual({ status: 'signed-out' });
    expect(signInStateOf({ ...base, refreshable: true, expiresAt: 10 }, 20).status).toBe('signed-in');
    expect(signInStateOf({ ...base, refreshable: false, expiresAt: 10 }, 20)).toMatchObject({
      status: 'expired',
      error: { code: 'TOKEN_EXPIRED' },
    });
    expect(
      signInStateOf(
        { ...base, refreshable: false, expiresAt: 10, failure: { code: 'REFRESH_FAILED', message: 'm' } },
        20,
      ),
    ).toMatchObject({
      status: 'expired',
      error: { code: 'REFRESH_FAILED' },
    });
  });
});
