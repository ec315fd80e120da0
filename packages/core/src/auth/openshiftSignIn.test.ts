import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemorySecretStore } from '../ports/SecretStore.js';
import { openShiftTokenRequestUrl, startOpenShiftSignIn } from './openshiftSignIn.js';
import { FakeIdp } from './testing/fakeIdp.js';

describe('startOpenShiftSignIn', () => {
  let server: FakeIdp;
  beforeEach(async () => {
    server = await new FakeIdp().start();
  });
  afterEach(() => server.stop());

  it('discovers the OAuth server from the API server, runs PKCE as openshift-cli-client and checks the identity', async () => {
    const store = new MemorySecretStore();
    const seen: string[] = [];
    const flow = await startOpenShiftSignIn(
      { clusterId: 'ocp', server: server.issuer, allowInsecureRequests: true },
      {
        store,
        verifyIdentity: async (source) => {
          seen.push((await source.get()).token?.reveal() ?? '');
          return { username: 'developer', groups: ['system:authenticated:oauth'] };
        },
      },
    );
    const url = new URL(flow.url);
    expect(url.pathname).toBe('/oauth/authorize');
    expect(url.searchParams.get('client_id')).toBe('openshift-cli-client');
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('nonce')).toBeNull();
    expect(flow.tokenRequestUrl).toBe(`${server.issuer}/oauth/token/request`);
    const atServer = await fetch(flow.url, { redirect: 'manual' });
    await fetch(atServer.headers.get('location') ?? '');
    const session = await flow.done;
    expect(session.token.reveal()).toMatch(/^sha256~/);
    expect(seen).toEqual([session.token.reveal()]);
    expect(session.info).toMatchObject({
      method: 'openshift',
      clientId: 'openshift-cli-client',
      refreshable: false,
      identity: { username: 'developer' },
    });
    expect(session.info.expiresAt).toBeGreaterThan(Date.now());
  });

  it('with the host redirect (its OAuthClient lists it): no listener, the handed-over redirect finishes it', async () => {
    const redirectUri = 'https://jupyter.example.test/ray-connect/oauth/callback';
    const flow = await startOpenShiftSignIn(
      { clusterId: 'ocp', server: server.issuer, allowInsecureRequests: true, redirectUri },
      {
        store: new MemorySecretStore(),
        verifyIdentity: async () => ({ username: 'developer', groups: [] }),
      },
    );
    expect(new URL(flow.url).searchParams.get('redirect_uri')).toBe(redirectUri);
    const back = new URL((await fetch(flow.url, { redirect: 'manual' })).headers.get('location') ?? '');
    expect(back.origin + back.pathname).toBe(redirectUri);
    await expect(flow.deliver(new URL(`${redirectUri}?code=x&state=other`))).rejects.toMatchObject({
      code: 'LOGIN_STATE_MISMATCH',
    });
    await flow.deliver(back);
    await expect(flow.done).resolves.toMatchObject({
      info: { method: 'openshift', identity: { username: 'developer' } },
    });
  });

  it('says the cluster is not OpenShift when there is no OAuth metadata', async () => {
    const stub = async () => new Response('{}', { status: 404 });
    await expect(
      startOpenShiftSignIn(
        { clusterId: 'k', server: 'https://k8s.example:6443', fetch: stub },
        { store: new MemorySecretStore(), verifyIdentity: async () => ({ username: 'x', groups: [] }) },
      ),
    ).rejects.toMatchObject({
      code: 'IDP_ERROR',
      message: expect.stringContaining('no OpenShift OAuth server'),
    });
  });

  it.each([401, 403])(
    'says the cluster is not OpenShift when a plain API server refuses the anonymous discovery (%i)',
    async (status) => {
      // what kube-apiserver answers with the default RBAC (no anonymous access to non-resource paths)
      const body = JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code: status });
      const stub = async () =>
        new Response(body, { status, headers: { 'content-type': 'application/json' } });
      await expect(
        startOpenShiftSignIn(
          { clusterId: 'k', server: 'https://k8s.example:6443', fetch: stub },
          { store: new MemorySecretStore(), verifyIdentity: async () => ({ username: 'x', groups: [] }) },
        ),
      ).rejects.toMatchObject({
        code: 'IDP_ERROR',
        message: expect.stringContaining(`no OpenShift OAuth server`),
        fix: expect.stringContaining('not an OpenShift cluster'),
        details: { status },
      });
    },
  );

  it('reports another failure of the discovery with its status', async () => {
    const stub = async () => new Response('oops', { status: 500 });
    await expect(
      startOpenShiftSignIn(
        { clusterId: 'k', server: 'https://k8s.example:6443', fetch: stub },
        { store: new MemorySecretStore(), verifyIdentity: async () => ({ username: 'x', groups: [] }) },
      ),
    ).rejects.toMatchObject({ code: 'IDP_ERROR', message: expect.stringContaining('answered HTTP 500') });
  });

  it('names the display-token page', () => {
    expect(openShiftTokenRequestUrl('https://oauth-openshift.apps.example.com')).toBe(
      'https://oauth-openshift.apps.example.com/oauth/token/request',
    );
  });
});
