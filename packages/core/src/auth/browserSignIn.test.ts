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
