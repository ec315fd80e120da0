// Browser sign-in whose redirect is a host's own page (a Jupyter server's <base_url>ray-connect/oauth/callback),
// against the real sandbox provider: no loopback listener, the redirect is handed over with deliver().
// RC_TEST_OIDC_ISSUER points at a second instance of the sandbox provider (same users and keys, another port) when
// the shared one still runs a script without the Jupyter callback; then the identity comes from the id_token
// (the API server trusts only the shared issuer).
import { beforeAll, describe, expect, it } from 'vitest';
import { MemorySecretStore, startBrowserSignIn } from '../../../packages/core/src/index.js';
import { browserLogin } from '../../sandbox/client.mjs';
import { sandbox } from './helpers.js';

const JUPYTER = 'http://jupyter.test:8888/user/alice/ray-connect/oauth/callback';

describe('browser sign-in through a host redirect (the Jupyter server callback)', () => {
  let s: ReturnType<typeof sandbox>;
  let issuer: string;
  let own: boolean;
  beforeAll(() => {
    s = sandbox();
    issuer = process.env['RC_TEST_OIDC_ISSUER'] ?? s.idp.issuer;
    own = issuer === s.idp.issuer;
  });
  const start = (redirectUri: string, store = new MemorySecretStore()) =>
    startBrowserSignIn(
      { clusterId: 'sandbox', ...s.idp, issuer, redirectUri },
      { store, ...(own && { verifyIdentity: s.verifyIdentity }) },
    );
  const login = async (url: string) => {
    try {
      return (await browserLogin(url, { user: 'alice', follow: false })).callbackUrl;
    } catch (e) {
      throw new Error(
        `${String(e)}: does ${issuer} run the current test/sandbox/lib/oidc-server.mjs (Jupyter callback allowed)? ` +
          'Restart the sandbox provider, or set RC_TEST_OIDC_ISSUER to a second instance.',
      );
    }
  };

  it('alice signs in at the provider, which sends her to the Jupyter callback; deliver() finishes the sign-in', async () => {
    const store = new MemorySecretStore();
    const flow = await start(JUPYTER, store);
    expect(new URL(flow.url).searchParams.get('redirect_uri')).toBe(JUPYTER);
    const callbackUrl = await login(flow.url);
    const callback = new URL(callbackUrl);
    expect(callback.origin + callback.pathname).toBe(JUPYTER);
    expect(callback.searchParams.get('state')).toBe(flow.state);
    expect(callback.searchParams.get('code')).toBeTruthy();
    // the Jupyter server sees itself under another name than the browser does (a proxy): only the query counts
    await flow.deliver(
      new URL(`http://127.0.0.1:8888/user/alice/ray-connect/oauth/callback${callback.search}`),
    );
    const session = await flow.done;
    expect(session.info).toMatchObject({
      method: 'browser',
      refreshable: true,
      identity: { username: own ? 'oidc:alice' : 'alice@example.com' },
    });
    expect(await store.keys('ray-connect/sandbox/')).not.toHaveLength(0);
    // the same answer again (a reloaded callback page) is the same success, not a second redemption
    await expect(flow.deliver(callback)).resolves.toBeUndefined();
  });

  it('an answer with another state is refused and the flow still finishes with its own', async () => {
    const flow = await start(JUPYTER);
    await expect(flow.deliver(new URL(`${JUPYTER}?code=x&state=forged`))).rejects.toMatchObject({
      code: 'LOGIN_STATE_MISMATCH',
    });
    await flow.deliver(new URL(await login(flow.url)));
    await expect(flow.done).resolves.toMatchObject({ info: { method: 'browser' } });
  });

  it('a code redeemed with another PKCE verifier (another flow) is refused by the provider: IDP_ERROR', async () => {
    const first = await start(JUPYTER);
    const second = await start(JUPYTER);
    const firstAnswer = new URL(await login(first.url));
    // put the first flow's code under the second flow's state: state passes, PKCE must not
    const stolen = new URL(JUPYTER);
    stolen.searchParams.set('code', firstAnswer.searchParams.get('code') ?? '');
    stolen.searchParams.set('state', second.state);
    const iss = firstAnswer.searchParams.get('iss');
    if (iss !== null) stolen.searchParams.set('iss', iss);
    await expect(second.deliver(stolen)).rejects.toMatchObject({ code: 'IDP_ERROR' });
    await expect(second.done).rejects.toMatchObject({ code: 'IDP_ERROR' });
    first.cancel();
  });

  it('the provider does not send the browser to a callback its client does not list', async () => {
    const flow = await start('https://jupyter.example.com/ray-connect/oauth/callback');
    await expect(browserLogin(flow.url, { user: 'alice', follow: false })).rejects.toThrow(/redirect_uri/);
    flow.cancel();
  });
});
