// Sign-in against the real sandbox: oidc-provider (device flow, auth code + PKCE, refresh) and kube-apiserver
// (OIDC authentication, SelfSubjectReview). Needs `node test/sandbox/sandbox.mjs up`.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  MemorySecretStore,
  Secret,
  SessionStore,
  createKubeClient,
  refreshSession,
  sessionCredentialSource,
  signInWithToken,
  startBrowserSignIn,
  startDeviceSignIn,
  whoAmI,
} from '../../../packages/core/src/index.js';
import { approveDevice, browserLogin, createToken, kubectl, oidcRefresh } from '../../sandbox/client.mjs';
import { sandbox, tempDir } from './helpers.js';

describe('sign-in against the sandbox', () => {
  let s: ReturnType<typeof sandbox>;
  beforeAll(() => {
    s = sandbox();
  });

  it('device flow as alice, approved through the provider pages, then an authenticated call as oidc:alice', async () => {
    const store = new MemorySecretStore();
    const flow = await startDeviceSignIn(
      { clusterId: 'sandbox', ...s.idp },
      { store, verifyIdentity: s.verifyIdentity },
    );
    expect(flow.verificationUri).toContain(s.idp.issuer);
    await approveDevice({ userCode: flow.userCode, user: 'alice' });
    const session = await flow.done;
    expect(session.info.identity).toEqual({
      username: 'oidc:alice',
      groups: expect.arrayContaining(['oidc:ray-users']),
    });
    expect(session.refreshToken).toBeDefined(); // offline_access was granted (prompt=consent)
    const client = createKubeClient({
      server: s.env.apiServer,
      ca: s.ca,
      credential: sessionCredentialSource('sandbox', { store, configDir: tempDir('rc-int-') }),
    });
    expect((await whoAmI(client)).username).toBe('oidc:alice');
  });

  it('auth code + PKCE through the browser pages with a loopback redirect', async () => {
    const store = new MemorySecretStore();
    const flow = await startBrowserSignIn(
      { clusterId: 'sandbox', ...s.idp },
      { store, verifyIdentity: s.verifyIdentity },
    );
    const callback = await browserLogin(flow.url, { user: 'alice' });
    expect(callback.status).toBe(200);
    expect(callback.body).toContain('You can close this tab');
    const session = await flow.done;
    expect(session.info).toMatchObject({
      method: 'browser',
      refreshable: true,
      identity: { username: 'oidc:alice' },
    });
  });

  it('a pasted ServiceAccount token (kubectl create token) is checked at once and shows who it is', async () => {
    const store = new MemorySecretStore();
    const token = await createToken(s.env.namespace, 'ray-user');
    const session = await signInWithToken(
      { clusterId: 'sandbox-sa', token: new Secret(token) },
      { store, verifyIdentity: s.verifyIdentity },
    );
    expect(session.info.identity?.username).toBe(`system:serviceaccount:${s.env.namespace}:ray-user`);
    expect(session.info.expiresAt).toBeGreaterThan(Date.now());
    const client = createKubeClient({
      server: s.env.apiServer,
      ca: s.ca,
      credential: sessionCredentialSource('sandbox-sa', { store, configDir: tempDir('rc-int-') }),
    });
    expect((await whoAmI(client)).username).toBe(`system:serviceaccount:${s.env.namespace}:ray-user`);
  });

  it('a pasted token the API server stops accepting (its ServiceAccount deleted) gives TOKEN_INVALID, sign in again', async () => {
    const sa = `rc-auth-${Date.now().toString(36)}`;
    expect((await kubectl(['create', 'serviceaccount', sa, '-n', s.env.namespace])).code).toBe(0);
    try {
      const store = new MemorySecretStore();
      const token = await createToken(s.env.namespace, sa);
      await signInWithToken(
        { clusterId: 'sa', token: new Secret(token) },
        { store, verifyIdentity: s.verifyIdentity },
      );
      const configDir = tempDir('rc-int-');
      const client = createKubeClient({
        server: s.env.apiServer,
        ca: s.ca,
        credential: sessionCredentialSource('sa', { store, configDir }),
      });
      expect((await whoAmI(client)).username).toBe(`system:serviceaccount:${s.env.namespace}:${sa}`);
      expect((await kubectl(['delete', 'serviceaccount', sa, '-n', s.env.namespace])).code).toBe(0);
      // The API server notices the deletion through its informer cache: ask until it answers 401.
      let error: unknown;
      for (let i = 0; i < 60 && error === undefined; i++) {
        error = await whoAmI(client).then(
          () => new Promise<undefined>((r) => setTimeout(() => r(undefined), 500)),
          (e: unknown) => e,
        );
      }
      expect(error).toMatchObject({ code: 'TOKEN_INVALID', fix: expect.stringContaining('Sign in again') });
    } finally {
      await kubectl(['delete', 'serviceaccount', sa, '-n', s.env.namespace, '--ignore-not-found']);
    }
  });

  it('a pasted token the cluster does not accept fails with TOKEN_INVALID and stores nothing', async () => {
    const store = new MemorySecretStore();
    await expect(
      signInWithToken(
        { clusterId: 'x', token: new Secret('not-a-real-token') },
        { store, verifyIdentity: s.verifyIdentity },
      ),
    ).rejects.toMatchObject({
      code: expect.stringMatching(/TOKEN_INVALID|TOKEN_EXPIRED/),
    });
    expect(await store.keys('')).toEqual([]);
  });

  it('refresh: near expiry the id_token is renewed, the rotated refresh token is stored, and the API server accepts it', async () => {
    const store = new MemorySecretStore();
    const flow = await startDeviceSignIn(
      { clusterId: 'sandbox', ...s.idp },
      { store, verifyIdentity: s.verifyIdentity },
    );
    await approveDevice({ userCode: flow.userCode, user: 'alice' });
    const first = await flow.done;
    const configDir = tempDir('rc-int-');
    // 30 s before expiry (inside the 60 s margin), on a clock that runs ahead.
    const ahead = (first.info.expiresAt ?? 0) - 30_000 - Date.now();
    const clock = {
      now: () => Date.now() + ahead,
      sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)),
    };
    const credential = sessionCredentialSource('sandbox', { store, configDir, clock });
    const client = createKubeClient({ server: s.env.apiServer, ca: s.ca, credential });
    expect((await whoAmI(client)).username).toBe('oidc:alice');
    // (the new id_token may equal the old one byte for byte when issued in the same second)
    const second = await new SessionStore(store).load('sandbox');
    expect(second?.info.refreshedAt).toBeDefined();
    expect(second?.refreshToken?.equals(first.refreshToken ?? '')).toBe(false);
    // and again, from the rotated token (the grant survived)
    const third = await refreshSession('sandbox', { store, configDir }, { rejected: second!.token });
    expect(third.refreshToken?.equals(second!.refreshToken ?? '')).toBe(false);
    const again = createKubeClient({
      server: s.env.apiServer,
      ca: s.ca,
      credential: sessionCredentialSource('sandbox', { store, configDir }),
    });
    expect((await whoAmI(again)).username).toBe('oidc:alice');
  });

  it('a revoked grant (an old refresh token was reused) ends in REFRESH_FAILED, not a loop', async () => {
    const store = new MemorySecretStore();
    const flow = await startDeviceSignIn(
      { clusterId: 'sandbox', ...s.idp },
      { store, verifyIdentity: s.verifyIdentity },
    );
    await approveDevice({ userCode: flow.userCode, user: 'alice' });
    const session = await flow.done;
    const stolen = session.refreshToken!.reveal();
    await oidcRefresh(stolen); // someone else uses it: it rotates at the provider
    await expect(oidcRefresh(stolen)).rejects.toThrow(); // reuse revokes the whole grant
    const configDir = tempDir('rc-int-');
    const credential = sessionCredentialSource('sandbox', { store, configDir });
    await credential.get(); // the id_token itself is still good
    credential.invalidate?.(); // as after a 401: the next get must refresh
    await expect(credential.get()).rejects.toMatchObject({ code: 'REFRESH_FAILED', fix: 'Sign in again.' });
    await expect(credential.get()).rejects.toMatchObject({ code: 'REFRESH_FAILED' });
    const info = (await new SessionStore(store).load('sandbox'))?.info;
    expect(info?.failure?.code).toBe('REFRESH_FAILED');
    expect(info?.refreshable).toBe(false);
  });
});
