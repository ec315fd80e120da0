import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../ports/Clock.js';
import { MemorySecretStore } from '../ports/SecretStore.js';
import { Secret } from '../secret.js';
import type { RefreshDeps } from './refreshSession.js';
import { refreshMarginMs } from './refreshSession.js';
import { sessionCredentialSource } from './sessionCredentialSource.js';
import { SessionStore } from './sessionStore.js';
import { FakeIdp } from './testing/fakeIdp.js';

describe('sessionCredentialSource', () => {
  let idp: FakeIdp;
  let store: MemorySecretStore;
  let clock: FakeClock;
  let deps: RefreshDeps;
  const clusterId = 'url:https://k8s:6443';

  beforeEach(async () => {
    idp = await new FakeIdp({ idTokenTtl: 600 }).start();
    store = new MemorySecretStore();
    clock = new FakeClock(Date.now());
    deps = { store, clock, configDir: mkdtempSync(join(tmpdir(), 'rc-refresh-')) };
  });
  afterEach(() => idp.stop());

  /** Signs in the way the device flow would, with a real grant at the fake provider. */
  async function signIn(): Promise<void> {
    const response = await fetch(`${idp.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
        device_code: 'x',
        client_id: 'kubernetes',
      }),
    });
    idp.deviceState = 'approved';
    const retry =
      response.status === 400
        ? await fetch(`${idp.issuer}/token`, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams({
              grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
              device_code: 'x',
            }),
          })
        : response;
    const tokens = (await retry.json()) as { id_token: string; refresh_token: string };
    const now = Date.now();
    await new SessionStore(store).save({
      info: {
        clusterId,
        method: 'device',
        issuer: idp.issuer,
        clientId: 'kubernetes',
        allowInsecureRequests: true,
        signedInAt: now,
        issuedAt: now,
        expiresAt: now + 600_000,
        refreshable: true,
      },
      token: new Secret(tokens.id_token),
      refreshToken: new Secret(tokens.refresh_token),
    });
  }

  it('returns the stored token while it is fresh, without calling the provider', async () => {
    await signIn();
    const source = sessionCredentialSource(clusterId, deps);
    const credential = await source.get();
    expect(credential.token).toBeInstanceOf(Secret);
    expect(credential.expiresAt).toBeGreaterThan(clock.now());
    expect(idp.refreshCount).toBe(0);
  });

  it('refreshes inside the margin, once for many concurrent callers, and stores the rotated refresh token', async () => {
    await signIn();
    const before = await new SessionStore(store).load(clusterId);
    clock.advance(600_000 - 30_000); // 30 s before expiry; margin is min(60 s, 10% of 600 s)
    const source = sessionCredentialSource(clusterId, deps);
    const results = await Promise.all([
      source.get(),
      source.get(),
      source.get(),
      sessionCredentialSource(clusterId, deps).get(),
    ]);
    expect(idp.refreshCount).toBe(1);
    const after = await new SessionStore(store).load(clusterId);
    expect(after?.refreshToken?.equals(before?.refreshToken ?? '')).toBe(false);
    for (const r of results) expect(r.token?.equals(after?.token ?? '')).toBe(true);
    expect(after?.info.refreshedAt).toBe(clock.now());
  });

  it('re-reads the store under the lock: a refresh done elsewhere is used, not repeated', async () => {
    await signIn();
    const source = sessionCredentialSource(clusterId, deps);
    await source.get(); // caches the session
    clock.advance(600_000 - 10_000);
    // Another process refreshed and stored a fresh token meanwhile.
    const fresh = idp.idToken({ exp: Math.floor(clock.now() / 1000) + 3600 });
    const sessions = new SessionStore(store);
    const current = await sessions.load(clusterId);
    await sessions.save({
      ...current!,
      token: new Secret(fresh),
      info: { ...current!.info, expiresAt: clock.now() + 3_600_000, issuedAt: clock.now() },
    });
    const cached = sessionCredentialSource(clusterId, deps);
    expect((await cached.get()).token?.reveal()).toBe(fresh);
    expect((await source.get()).token?.reveal()).toBe(fresh);
    expect(idp.refreshCount).toBe(0);
  });

  it('a revoked grant ends in REFRESH_FAILED once, then fails the same way without asking again', async () => {
    await signIn();
    idp.refreshError = 'invalid_grant';
    const expiresAt = (await new SessionStore(store).load(clusterId))?.info.expiresAt ?? 0;
    clock.current = expiresAt - 10_000;
    const source = sessionCredentialSource(clusterId, deps);
    expect((await source.get()).token).toBeDefined(); // still valid: used until it expires
    expect((await source.get()).token).toBeDefined();
    clock.current = expiresAt + 1;
    await expect(source.get()).rejects.toMatchObject({ code: 'REFRESH_FAILED', fix: 'Sign in again.' });
    await expect(source.get()).rejects.toMatchObject({ code: 'REFRESH_FAILED' });
    await expect(sessionCredentialSource(clusterId, deps).get()).rejects.toMatchObject({
      code: 'REFRESH_FAILED',
    });
    expect(idp.refreshCount).toBe(1);
    const keys = await store.keys('');
    expect(keys.some((k) => k.endsWith('refresh-token'))).toBe(false);
  });

  it('keeps using a still-valid token when the provider is unreachable, and says so once expired', async () => {
    await signIn();
    const token = (await new SessionStore(store).load(clusterId))?.token;
    await idp.stop();
    clock.advance(600_000 - 30_000);
    const source = sessionCredentialSource(clusterId, deps);
    expect((await source.get()).token?.equals(token ?? '')).toBe(true);
    clock.advance(60_000);
    await expect(source.get()).rejects.toMatchObject({ code: 'IDP_UNREACHABLE' });
    idp = await new FakeIdp().start();
  });

  it('invalidate() after a 401 forces a refresh on the next get', async () => {
    await signIn();
    const source = sessionCredentialSource(clusterId, deps);
    const first = await source.get();
    source.invalidate?.();
    const second = await source.get();
    expect(idp.refreshCount).toBe(1);
    expect(second.token?.equals(first.token ?? '')).toBe(false);
  });

  it('a pasted token cannot be refreshed: TOKEN_EXPIRED after expiry', async () => {
    await new SessionStore(store).save({
      info: { clusterId, method: 'token', signedInAt: 0, expiresAt: clock.now() + 1000, refreshable: false },
      token: new Secret('sa-token'),
    });
    const source = sessionCredentialSource(clusterId, deps);
    expect((await source.get()).token?.reveal()).toBe('sa-token');
    clock.advance(2000);
    await expect(source.get()).rejects.toMatchObject({ code: 'TOKEN_EXPIRED' });
  });

  it('SIGNED_OUT when there is no session, and notices a sign-out in this process', async () => {
    await expect(sessionCredentialSource('none', deps).get()).rejects.toMatchObject({ code: 'SIGNED_OUT' });
    await signIn();
    const source = sessionCredentialSource(clusterId, deps);
    await source.get();
    const { signOut } = await import('./signOut.js');
    await signOut(clusterId, { store });
    await expect(source.get()).rejects.toMatchObject({ code: 'SIGNED_OUT' });
  });
});

describe('refreshMarginMs', () => {
  it('is 10% of the lifetime, at most 60 s', () => {
    expect(refreshMarginMs({ issuedAt: 0, expiresAt: 300_000 })).toBe(30_000);
    expect(refreshMarginMs({ issuedAt: 0, expiresAt: 3_600_000 })).toBe(60_000);
    expect(refreshMarginMs({ expiresAt: 10 })).toBe(60_000);
  });
});

describe('refresh failures that may pass', () => {
  it('a provider error that is not about the grant (HTTP 500) keeps the session and the refresh token', async () => {
    const idp = await new FakeIdp({ idTokenTtl: 600 }).start();
    try {
      const store = new MemorySecretStore();
      const clock = new FakeClock(Date.now());
      const now = Date.now();
      await new SessionStore(store).save({
        info: {
          clusterId: 'c',
          method: 'device',
          issuer: idp.issuer,
          clientId: 'kubernetes',
          allowInsecureRequests: true,
          signedInAt: now,
          issuedAt: now,
          expiresAt: now + 600_000,
          refreshable: true,
        },
        token: new Secret(idp.idToken()),
        refreshToken: new Secret('rt-unknown'),
      });
      idp.refreshError = 'server_error';
      clock.advance(600_000 - 30_000);
      const source = sessionCredentialSource('c', {
        store,
        clock,
        configDir: mkdtempSync(join(tmpdir(), 'rc-refresh-')),
      });
      expect((await source.get()).token).toBeDefined();
      const after = await new SessionStore(store).load('c');
      expect(after?.info.failure).toBeUndefined();
      expect(after?.refreshToken?.reveal()).toBe('rt-unknown');
    } finally {
      await idp.stop();
    }
  });
});

describe('a pasted token the API server stops accepting', () => {
  it('gives TOKEN_INVALID after invalidate() (nothing to refresh with)', async () => {
    const store = new MemorySecretStore();
    await new SessionStore(store).save({
      info: { clusterId: 'c', method: 'token', signedInAt: 0, refreshable: false },
      token: new Secret('revoked-sa-token'),
    });
    const source = sessionCredentialSource('c', {
      store,
      configDir: mkdtempSync(join(tmpdir(), 'rc-refresh-')),
    });
    await source.get();
    source.invalidate?.();
    await expect(source.get()).rejects.toMatchObject({
      code: 'TOKEN_INVALID',
      fix: expect.stringContaining('Sign in again'),
    });
  });
});
