// OpenShift OAuth sign-in (`oc login --web` style, core `startOpenShiftSignIn`) against real components. The
// sandbox's oidc-provider plays the OpenShift OAuth server: client `openshift-cli-client` (public, PKCE S256,
// loopback redirect on 127.0.0.1 with any port), opaque access tokens that the real kube-apiserver accepts through
// its token webhook. The sandbox kube-apiserver does not serve `/.well-known/oauth-authorization-server` as
// OpenShift's does, so the test puts a small TLS front on 127.0.0.1 (`openshiftFront.ts`, the sandbox API server's own
// certificate) that answers that one path with the provider's metadata and passes every other request through
// unchanged to the real API server; its URL is the `server` given to the sign-in (not OpenShift itself).
// Needs `node test/sandbox/sandbox.mjs up`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MemorySecretStore,
  clusterIdentityCheck,
  createKubeClient,
  sessionCredentialSource,
  startOpenShiftSignIn,
  whoAmI,
} from '../../../packages/core/src/index.js';
import { browserLogin } from '../../sandbox/client.mjs';
import { sandbox, tempDir } from './helpers.js';
import { type ApiFront, DISCOVERY, startApiFront } from './openshiftFront.js';

describe('OpenShift OAuth sign-in against the sandbox (oidc-provider as the OAuth server)', () => {
  let s: ReturnType<typeof sandbox>;
  let front: ApiFront;
  beforeAll(async () => {
    s = sandbox();
    front = await startApiFront({ apiServer: s.env.apiServer, issuer: s.idp.issuer, ca: s.ca });
  });
  afterAll(() => front?.close());

  const deps = (store: MemorySecretStore) => ({
    store,
    // the identity comes from the API server the user named (the front, i.e. the real kube-apiserver behind it)
    verifyIdentity: clusterIdentityCheck({ server: front.url, ca: s.ca }),
  });

  it('discovers the OAuth server from the API server, signs in alice with PKCE on a loopback redirect, opaque token accepted by the API server', async () => {
    const store = new MemorySecretStore();
    const flow = await startOpenShiftSignIn({ clusterId: 'ocp', server: front.url, ca: s.ca }, deps(store));
    expect(front.seen).toContain(`GET ${DISCOVERY}`);

    const url = new URL(flow.url);
    expect(url.origin).toBe(s.idp.issuer);
    expect(url.searchParams.get('client_id')).toBe('openshift-cli-client');
    expect(url.searchParams.get('response_type')).toBe('code');
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('code_challenge')).toMatch(/^[\w-]{43}$/);
    expect(url.searchParams.get('redirect_uri')).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    expect(url.searchParams.get('nonce')).toBeNull(); // plain OAuth: no id_token

    // the "display token" fallback page on the OAuth server (the provider does not serve it: shape only)
    const tokenPage = new URL(flow.tokenRequestUrl);
    expect(tokenPage.origin).toBe(s.idp.issuer);
    expect(tokenPage.pathname).toBe('/oauth/token/request');

    // the provider's real login + consent pages as alice, then the redirect to the loopback listener
    const callback = await browserLogin(flow.url, { user: 'alice' });
    expect(new URL(callback.callbackUrl).origin).toBe(
      new URL(url.searchParams.get('redirect_uri') ?? '').origin,
    );
    expect(callback.status).toBe(200);
    expect(callback.body).toContain('You can close this tab');

    const session = await flow.done;
    expect(session.info).toMatchObject({
      clusterId: 'ocp',
      method: 'openshift',
      issuer: s.idp.issuer,
      clientId: 'openshift-cli-client',
      refreshable: false,
      identity: { username: 'oidc:alice', groups: expect.arrayContaining(['oidc:ray-users']) },
    });
    expect(session.refreshToken).toBeUndefined();
    expect(session.token.reveal()).not.toContain('.'); // opaque, not a JWT
    expect(session.info.expiresAt).toBeGreaterThan(Date.now());
    // the identity came from a SelfSubjectReview through the API server URL the user gave
    expect(
      front.seen.some((r) => /^POST \/apis\/authentication\.k8s\.io\/v1\/selfsubjectreviews/.test(r)),
    ).toBe(true);

    // the stored opaque token works as a bearer token on the real API server (directly, not through the front)
    const client = createKubeClient({
      server: s.env.apiServer,
      ca: s.ca,
      credential: sessionCredentialSource('ocp', { store, configDir: tempDir('rc-int-ocp-') }),
    });
    expect((await whoAmI(client)).username).toBe('oidc:alice');
    const list = await client.request<{ kind: string; items: unknown[] }>({
      path: `/apis/ray.io/v1/namespaces/${s.env.namespace}/rayclusters`,
    });
    expect(list.kind).toBe('RayClusterList');
    expect(list.items.length).toBeGreaterThan(0);
  });

  it('cancel ends the sign-in with LOGIN_CANCELLED, closes the loopback listener and stores nothing', async () => {
    const store = new MemorySecretStore();
    const flow = await startOpenShiftSignIn({ clusterId: 'ocp', server: front.url, ca: s.ca }, deps(store));
    const redirect = new URL(new URL(flow.url).searchParams.get('redirect_uri') ?? '');
    flow.cancel();
    await expect(flow.done).rejects.toMatchObject({ code: 'LOGIN_CANCELLED' });
    await expect(fetch(redirect)).rejects.toMatchObject({ cause: { code: 'ECONNREFUSED' } }); // nothing listens
    expect(await store.keys('')).toEqual([]);
  });

  it('an aborted signal cancels it too, even after the user signed in at the provider', async () => {
    const store = new MemorySecretStore();
    const abort = new AbortController();
    const flow = await startOpenShiftSignIn(
      { clusterId: 'ocp', server: front.url, ca: s.ca, signal: abort.signal },
      deps(store),
    );
    abort.abort();
    await expect(flow.done).rejects.toMatchObject({ code: 'LOGIN_CANCELLED' });
    // alice still gets through the provider's pages, but the redirect finds no listener
    await expect(browserLogin(flow.url, { user: 'alice' })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(await store.keys('')).toEqual([]);
  });

  it('the real kube-apiserver itself (no OpenShift OAuth metadata) is named as not OpenShift', async () => {
    await expect(
      startOpenShiftSignIn(
        { clusterId: 'k8s', server: s.env.apiServer, ca: s.ca },
        deps(new MemorySecretStore()),
      ),
    ).rejects.toMatchObject({
      code: 'IDP_ERROR',
      message: expect.stringContaining('no OpenShift OAuth server'),
      fix: expect.stringContaining('not an OpenShift cluster'),
    });
  });
});
