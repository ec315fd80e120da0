import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeBrowser } from '../ports/Browser.js';
import { MemorySecretStore } from '../ports/SecretStore.js';
import { startBrowserSignIn } from './browserSignIn.js';
import { FakeIdp } from './testing/fakeIdp.js';

/** Plays the user's browser: follows the provider's redirect to our loopback listener. */
async function approveInBrowser(url: string): Promise<Response> {
  const atProvider = await fetch(url, { redirect: 'manual' });
  const location = atProvider.headers.get('location');
  if (location === null) throw new Error(`no redirect from ${url}`);
  return fetch(location);
}

describe('startBrowserSignIn', () => {
  let idp: FakeIdp;
  let store: MemorySecretStore;
  beforeEach(async () => {
    idp = await new FakeIdp().start();
    store = new MemorySecretStore();
  });
  afterEach(() => idp.stop());
  const input = () => ({
    clusterId: 'c1',
    issuer: idp.issuer,
    clientId: idp.clientId,
    allowInsecureRequests: true,
  });

  it('runs auth code + PKCE through a loopback redirect on 127.0.0.1 and stores the session', async () => {
    const browser = new FakeBrowser();
    const flow = await startBrowserSignIn(input(), { store, browser });
    const url = new URL(flow.url);
    expect(browser.opened).toEqual([flow.url]);
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('prompt')).toBe('consent');
    expect(url.searchParams.get('scope')).toBe('openid profile email offline_access groups');
    expect(url.searchParams.get('redirect_uri')).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    expect(url.searchParams.get('nonce')).toBeTruthy();
    const page = await approveInBrowser(flow.url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('You can close this tab');
    const session = await flow.done;
    expect(session.info).toMatchObject({
      method: 'browser',
      refreshable: true,
      identity: { username: 'alice@example.com', groups: ['devs'] },
    });
    expect(await store.keys('ray-connect/c1/')).toHaveLength(3);
  });

  it('ignores a redirect with the wrong state and keeps waiting for the real one', async () => {
    const flow = await startBrowserSignIn(input(), { store });
    const redirectUri = new URL(flow.url).searchParams.get('redirect_uri') ?? '';
    const forged = await fetch(`${redirectUri}?code=evil&state=wrong`);
    expect(forged.status).toBe(400);
    expect(await (await fetch(redirectUri.replace('/callback', '/other'))).status).toBe(404);
    await approveInBrowser(flow.url);
    await expect(flow.done).resolves.toMatchObject({ info: { method: 'browser' } });
  });

  it('reports an error the provider sends back (access_denied -> LOGIN_CANCELLED)', async () => {
    const flow = await startBrowserSignIn(input(), { store });
    const url = new URL(flow.url);
    const back = new URL(url.searchParams.get('redirect_uri') ?? '');
    back.searchParams.set('error', 'access_denied');
    back.searchParams.set('state', url.searchParams.get('state') ?? '');
    const page = await fetch(back);
    expect(page.status).toBe(400);
    await expect(flow.done).rejects.toMatchObject({ code: 'LOGIN_CANCELLED' });
  });

  it('cancel ends it with LOGIN_CANCELLED and closes the listener', async () => {
    const flow = await startBrowserSignIn(input(), { store });
    flow.cancel();
    await expect(flow.done).rejects.toMatchObject({ code: 'LOGIN_CANCELLED' });
    const redirectUri = new URL(flow.url).searchParams.get('redirect_uri') ?? '';
    await expect(fetch(redirectUri)).rejects.toThrow();
  });

  it('gives up after the timeout', async () => {
    const flow = await startBrowserSignIn({ ...input(), timeoutMs: 50 }, { store });
    await expect(flow.done).rejects.toMatchObject({ code: 'LOGIN_CANCELLED' });
  });
});

describe('startBrowserSignIn with an AbortSignal', () => {
  it('aborting the signal cancels it', async () => {
    const idp = await new FakeIdp().start();
    try {
      const controller = new AbortController();
      const flow = await startBrowserSignIn(
        {
          clusterId: 'c',
          issuer: idp.issuer,
          clientId: idp.clientId,
          allowInsecureRequests: true,
          signal: controller.signal,
        },
        { store: new MemorySecretStore() },
      );
      controller.abort();
      await expect(flow.done).rejects.toMatchObject({ code: 'LOGIN_CANCELLED' });
    } finally {
      await idp.stop();
    }
  });
});

describe('startBrowserSignIn with the host redirect (redirectUri, no loopback listener)', () => {
  let idp: FakeIdp;
  let store: MemorySecretStore;
  const redirectUri = 'https://jupyter.example.test/user/alice/ray-connect/oauth/callback';
  beforeEach(async () => {
    idp = await new FakeIdp().start();
    store = new MemorySecretStore();
  });
  afterEach(() => idp.stop());
  const start = (extra: { timeoutMs?: number } = {}, browser?: FakeBrowser) =>
    startBrowserSignIn(
      {
        clusterId: 'c1',
        issuer: idp.issuer,
        clientId: idp.clientId,
        allowInsecureRequests: true,
        redirectUri,
        ...extra,
      },
      { store, ...(browser !== undefined && { browser }) },
    );
  /** Plays the browser at the provider: where it is sent back to (the host's page, never fetched here). */
  const providerAnswer = async (url: string): Promise<URL> => {
    const location = (await fetch(url, { redirect: 'manual' })).headers.get('location');
    if (location === null) throw new Error(`no redirect from ${url}`);
    return new URL(location);
  };

  it('sends the given redirect URI, opens nothing itself, and finishes on the handed-over redirect', async () => {
    const browser = new FakeBrowser();
    const flow = await start({}, browser);
    const url = new URL(flow.url);
    expect(url.searchParams.get('redirect_uri')).toBe(redirectUri);
    expect(url.searchParams.get('state')).toBe(flow.state);
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(browser.opened).toEqual([]);
    const back = await providerAnswer(flow.url);
    expect(back.origin + back.pathname).toBe(redirectUri);
    await flow.deliver(back);
    await expect(flow.done).resolves.toMatchObject({
      info: { method: 'browser', identity: { username: 'alice@example.com' } },
    });
    // the token request carried the PKCE verifier and the same redirect_uri (the fake checks both)
    expect(idp.grants('/token', 'authorization_code')).toBe(1);
  });

  it('redeems with the redirect URI it sent, whatever host name the callback was seen under (a proxy)', async () => {
    const flow = await start();
    const back = await providerAnswer(flow.url);
    const seenByServer = new URL(`http://127.0.0.1:8888/user/alice/ray-connect/oauth/callback${back.search}`);
    await flow.deliver(seenByServer);
    await expect(flow.done).resolves.toMatchObject({ info: { method: 'browser' } });
  });

  it('refuses an answer with another state (LOGIN_STATE_MISMATCH) and keeps waiting for its own', async () => {
    const flow = await start();
    const forged = new URL(`${redirectUri}?code=evil&state=wrong`);
    await expect(flow.deliver(forged)).rejects.toMatchObject({ code: 'LOGIN_STATE_MISMATCH' });
    await expect(flow.deliver(new URL(`${redirectUri}?code=evil`))).rejects.toMatchObject({
      code: 'LOGIN_STATE_MISMATCH',
    });
    expect(idp.grants('/token')).toBe(0);
    await flow.deliver(await providerAnswer(flow.url));
    await expect(flow.done).resolves.toMatchObject({ info: { method: 'browser' } });
  });

  it('error=access_denied ends it with LOGIN_CANCELLED; a later answer gets LOGIN_NOT_FOUND', async () => {
    const flow = await start();
    const denied = new URL(redirectUri);
    denied.searchParams.set('error', 'access_denied');
    denied.searchParams.set('error_description', 'the user said no');
    denied.searchParams.set('state', flow.state);
    const error = await flow.deliver(denied).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'LOGIN_CANCELLED' });
    expect((error as Error).message).toContain('denied');
    await expect(flow.done).rejects.toMatchObject({ code: 'LOGIN_CANCELLED' });
    await expect(flow.deliver(await providerAnswer(flow.url))).rejects.toMatchObject({
      code: 'LOGIN_NOT_FOUND',
    });
  });

  it('the same answer twice (a reloaded page) redeems the code once and both callers see success', async () => {
    const flow = await start();
    const back = await providerAnswer(flow.url);
    await Promise.all([flow.deliver(back), flow.deliver(back)]);
    await flow.deliver(back);
    expect(idp.grants('/token', 'authorization_code')).toBe(1);
    await expect(flow.done).resolves.toMatchObject({ info: { method: 'browser' } });
  });

  it('a code the provider refuses (PKCE or code wrong) ends it with IDP_ERROR', async () => {
    const flow = await start();
    const wrongCode = new URL(`${redirectUri}?code=not-issued&state=${flow.state}`);
    await expect(flow.deliver(wrongCode)).rejects.toMatchObject({ code: 'IDP_ERROR' });
    await expect(flow.done).rejects.toMatchObject({ code: 'IDP_ERROR' });
  });

  it('times out like the loopback flow, and cancel ends it', async () => {
    const late = await start({ timeoutMs: 50 });
    await expect(late.done).rejects.toMatchObject({ code: 'LOGIN_CANCELLED' });
    const cancelled = await start();
    cancelled.cancel();
    await expect(cancelled.done).rejects.toMatchObject({ code: 'LOGIN_CANCELLED' });
    await expect(cancelled.deliver(await providerAnswer(cancelled.url))).rejects.toMatchObject({
      code: 'LOGIN_NOT_FOUND',
    });
  });

  it.each(['/relative/callback', 'javascript:alert(1)', 'https://x.test/cb#frag', 'not a url'])(
    'refuses the redirect URI %j with BAD_REQUEST naming it',
    async (bad) => {
      const error = await startBrowserSignIn(
        {
          clusterId: 'c1',
          issuer: idp.issuer,
          clientId: idp.clientId,
          allowInsecureRequests: true,
          redirectUri: bad,
        },
        { store },
      ).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'BAD_REQUEST' });
      expect((error as Error).message).toContain(JSON.stringify(bad));
    },
  );
});
