import { Agent, ProxyAgent } from 'undici';
import { describe, expect, it } from 'vitest';
import { isRayConnectError, RayConnectError } from '../errors.js';
import { FakeClock } from '../ports/Clock.js';
import { MemoryLogger } from '../ports/Logger.js';
import { Secret } from '../secret.js';
import { createKubeClient, type KubeFetch, type KubeFetchInit } from './createKubeClient.js';
import type { Credential, CredentialSource } from './credential.js';

interface Call {
  url: string;
  init: KubeFetchInit;
}

function fakeFetch(respond: (call: Call, n: number) => { status: number; body?: unknown } | Error) {
  const calls: Call[] = [];
  const fetch: KubeFetch = async (url, init) => {
    const call = { url, init };
    calls.push(call);
    const r = respond(call, calls.length);
    if (r instanceof Error) throw r;
    return {
      status: r.status,
      text: async () =>
        r.body === undefined ? '' : typeof r.body === 'string' ? r.body : JSON.stringify(r.body),
    };
  };
  return { fetch, calls };
}

function countingSource(
  tokens: string[],
  expiresAt?: number,
): CredentialSource & { gets: number; invalidations: number } {
  let i = 0;
  const s = {
    description: 'test token',
    gets: 0,
    invalidations: 0,
    async get(): Promise<Credential> {
      s.gets++;
      const c: Credential = { token: new Secret(tokens[Math.min(i, tokens.length - 1)] as string) };
      if (expiresAt !== undefined) c.expiresAt = expiresAt;
      return c;
    },
    invalidate() {
      s.invalidations++;
      i++;
    },
  };
  return s;
}

const status = (code: number, reason: string, message: string, details: Record<string, string> = {}) => ({
  kind: 'Status',
  apiVersion: 'v1',
  status: 'Failure',
  code,
  reason,
  message,
  details,
});

const fetchFailed = (code: string) =>
  Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error(code), { code }) });

async function failure(p: Promise<unknown>): Promise<RayConnectError> {
  try {
    await p;
  } catch (e) {
    if (isRayConnectError(e)) return e;
    throw e;
  }
  throw new Error('expected a rejection');
}

describe('createKubeClient', () => {
  it('sends JSON with the bearer token and returns the parsed body', async () => {
    const f = fakeFetch(() => ({ status: 200, body: { items: [1] } }));
    const client = createKubeClient({
      server: 'https://k:6443/',
      credential: countingSource(['t1']),
      fetch: f.fetch,
      namespace: 'ns',
      env: {},
    });
    expect(client.server).toBe('https://k:6443');
    expect(client.namespace).toBe('ns');
    expect(
      await client.request({ path: '/api/v1/namespaces', query: { limit: '5', skip: undefined } }),
    ).toEqual({ items: [1] });
    expect(f.calls[0]?.url).toBe('https://k:6443/api/v1/namespaces?limit=5');
    expect(f.calls[0]?.init.headers).toMatchObject({
      Authorization: 'Bearer t1',
      Accept: 'application/json',
    });
    expect(f.calls[0]?.init.dispatcher).toBeInstanceOf(Agent);
    await client.request({ method: 'PATCH', path: '/x', body: { a: 1 } });
    expect(f.calls[1]?.init).toMatchObject({
      method: 'PATCH',
      body: '{"a":1}',
      headers: { 'Content-Type': 'application/merge-patch+json' },
    });
  });

  it('namespace defaults to "default"', () => {
    expect(
      createKubeClient({ server: 'https://k', credential: countingSource(['t']), env: {} }).namespace,
    ).toBe('default');
  });

  it('401: invalidates the credential and retries once with the new one', async () => {
    const f = fakeFetch((call) =>
      call.init.headers.Authorization === 'Bearer old'
        ? { status: 401, body: status(401, 'Unauthorized', 'Unauthorized') }
        : { status: 200, body: {} },
    );
    const source = countingSource(['old', 'new']);
    const client = createKubeClient({ server: 'https://k', credential: source, fetch: f.fetch, env: {} });
    await client.request({ path: '/api' });
    expect(source.invalidations).toBe(1);
    expect(f.calls.map((c) => c.init.headers.Authorization)).toEqual(['Bearer old', 'Bearer new']);
  });

  it('401 twice: TOKEN_INVALID when the credential has not expired', async () => {
    const f = fakeFetch(() => ({ status: 401, body: status(401, 'Unauthorized', 'Unauthorized') }));
    const clock = new FakeClock();
    const source = countingSource(['a', 'b'], clock.now() + 60_000);
    const e = await failure(
      createKubeClient({ server: 'https://k', credential: source, fetch: f.fetch, clock, env: {} }).request({
        path: '/api',
      }),
    );
    expect(e.code).toBe('TOKEN_INVALID');
    expect(e.message).toContain('test token');
    expect(e.message).not.toMatch(/Bearer|\ba\b.*\bb\b/);
    expect(f.calls).toHaveLength(2);
  });

  it('401 with an expired credential: TOKEN_EXPIRED', async () => {
    const f = fakeFetch(() => ({ status: 401, body: status(401, 'Unauthorized', 'Unauthorized') }));
    const clock = new FakeClock();
    const source = countingSource(['a'], clock.now() - 1);
    const e = await failure(
      createKubeClient({ server: 'https://k', credential: source, fetch: f.fetch, clock, env: {} }).request({
        path: '/api',
      }),
    );
    expect(e.code).toBe('TOKEN_EXPIRED');
  });

  it('403: ACCESS_DENIED with verb, resource, namespace, name and the API server message', async () => {
    const message =
      'rayclusters.ray.io "rc1" is forbidden: User "system:serviceaccount:a:b" cannot get resource "rayclusters" in API group "ray.io" in the namespace "team"';
    const f = fakeFetch(() => ({
      status: 403,
      body: status(403, 'Forbidden', message, { name: 'rc1', group: 'ray.io', kind: 'rayclusters' }),
    }));
    const client = createKubeClient({
      server: 'https://k',
      credential: countingSource(['t']),
      fetch: f.fetch,
      env: {},
    });
    const e = await failure(client.request({ path: '/apis/ray.io/v1/namespaces/team/rayclusters/rc1' }));
    expect(e.code).toBe('ACCESS_DENIED');
    expect(e.details).toMatchObject({
      verb: 'get',
      resource: 'rayclusters.ray.io',
      namespace: 'team',
      name: 'rc1',
      user: 'system:serviceaccount:a:b',
      apiMessage: message,
      status: 403,
    });
    expect(e.message).toContain(message);
    expect(e.fix).toContain('get rayclusters.ray.io in namespace team');
  });

  it('403 without a Status body: details from the request path', async () => {
    const f = fakeFetch(() => ({ status: 403, body: 'forbidden' }));
    const client = createKubeClient({
      server: 'https://k',
      credential: countingSource(['t']),
      fetch: f.fetch,
      env: {},
    });
    const e = await failure(
      client.request({ method: 'POST', path: '/api/v1/namespaces/ns/pods/p1/portforward' }),
    );
    expect(e.details).toMatchObject({ verb: 'create', resource: 'pods', namespace: 'ns', name: 'p1' });
  });

  it('404 and other statuses keep details.status for the caller; 503 is CLUSTER_UNREACHABLE', async () => {
    const f = fakeFetch((_c, n) =>
      n === 1
        ? { status: 404, body: status(404, 'NotFound', 'rayclusters.ray.io "x" not found') }
        : { status: 503, body: 'unavailable' },
    );
    const client = createKubeClient({
      server: 'https://k',
      credential: countingSource(['t']),
      fetch: f.fetch,
      env: {},
    });
    const notFound = await failure(client.request({ path: '/apis/ray.io/v1/namespaces/ns/rayclusters/x' }));
    expect(notFound.details).toMatchObject({ status: 404, reason: 'NotFound', name: 'x' });
    expect((await failure(client.request({ path: '/api' }))).code).toBe('CLUSTER_UNREACHABLE');
  });

  it('a 2xx body that is not JSON is INTERNAL; an empty body is undefined', async () => {
    const f = fakeFetch((_c, n) => (n === 1 ? { status: 200, body: '<html>' } : { status: 200 }));
    const client = createKubeClient({
      server: 'https://k',
      credential: countingSource(['t']),
      fetch: f.fetch,
      env: {},
    });
    expect((await failure(client.request({ path: '/x' }))).code).toBe('INTERNAL');
    expect(await client.request({ path: '/x' })).toBeUndefined();
  });

  for (const code of [
    'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    'SELF_SIGNED_CERT_IN_CHAIN',
    'DEPTH_ZERO_SELF_SIGNED_CERT',
    'ERR_TLS_CERT_ALTNAME_INVALID',
    'CERT_HAS_EXPIRED',
  ]) {
    it(`${code}: TLS_UNTRUSTED with the fix`, async () => {
      const f = fakeFetch(() => fetchFailed(code));
      const e = await failure(
        createKubeClient({
          server: 'https://k',
          credential: countingSource(['t']),
          fetch: f.fetch,
          env: {},
        }).request({ path: '/api' }),
      );
      expect(e.code).toBe('TLS_UNTRUSTED');
      expect(e.details).toMatchObject({ url: 'https://k', tlsCode: code });
      if (code !== 'ERR_TLS_CERT_ALTNAME_INVALID')
        expect(e.fix).toContain('/etc/pki/tls/custom-certs/ca-bundle.crt');
    });
  }

  for (const code of ['ECONNREFUSED', 'ENOTFOUND', 'UND_ERR_CONNECT_TIMEOUT', 'ECONNRESET']) {
    it(`${code}: CLUSTER_UNREACHABLE naming the URL`, async () => {
      const f = fakeFetch(() => fetchFailed(code));
      const e = await failure(
        createKubeClient({
          server: 'https://k:6443',
          credential: countingSource(['t']),
          fetch: f.fetch,
          env: {},
        }).request({ path: '/api' }),
      );
      expect(e.code).toBe('CLUSTER_UNREACHABLE');
      expect(e.message).toContain('https://k:6443');
    });
  }

  it('a client key or certificate OpenSSL cannot load is KUBECONFIG_INVALID', async () => {
    const f = fakeFetch(() => fetchFailed('ERR_OSSL_ASN1_WRONG_TAG'));
    const e = await failure(
      createKubeClient({
        server: 'https://k',
        credential: countingSource(['t']),
        fetch: f.fetch,
        env: {},
      }).request({ path: '/api' }),
    );
    expect(e).toMatchObject({ code: 'KUBECONFIG_INVALID', details: { tlsCode: 'ERR_OSSL_ASN1_WRONG_TAG' } });
  });

  it('a request timeout is CLUSTER_UNREACHABLE; a caller abort is passed through', async () => {
    const hang: KubeFetch = (_url, init) =>
      new Promise((_resolve, reject) => {
        const fail = () => reject(Object.assign(new Error('aborted'), { name: 'AbortError' }));
        if (init.signal.aborted) fail();
        init.signal.addEventListener('abort', fail);
      });
    const client = createKubeClient({
      server: 'https://k',
      credential: countingSource(['t']),
      fetch: hang,
      env: {},
      timeoutMs: 10,
    });
    expect((await failure(client.request({ path: '/api' }))).code).toBe('CLUSTER_UNREACHABLE');
    const slow = createKubeClient({
      server: 'https://k',
      credential: countingSource(['t']),
      fetch: hang,
      env: {},
      timeoutMs: 60_000,
    });
    const ac = new AbortController();
    const p = slow.request({ path: '/api', signal: ac.signal });
    ac.abort(new Error('user cancelled'));
    await expect(p).rejects.toThrow('user cancelled');
  });

  it('credential errors pass through unchanged', async () => {
    const broken: CredentialSource = {
      description: 'x',
      get: () => Promise.reject(new RayConnectError('EXEC_PLUGIN_FAILED', 'nope')),
    };
    const e = await failure(
      createKubeClient({ server: 'https://k', credential: broken, env: {} }).request({ path: '/api' }),
    );
    expect(e.code).toBe('EXEC_PLUGIN_FAILED');
  });

  it('uses a ProxyAgent when HTTPS_PROXY applies and NO_PROXY does not exclude the host', async () => {
    const f = fakeFetch(() => ({ status: 200, body: {} }));
    const logger = new MemoryLogger();
    await createKubeClient({
      server: 'https://k.example',
      credential: countingSource(['t']),
      fetch: f.fetch,
      env: { HTTPS_PROXY: 'http://user:pw@proxy:3128' },
      logger,
    }).request({ path: '/a' });
    expect(f.calls[0]?.init.dispatcher).toBeInstanceOf(ProxyAgent);
    expect(JSON.stringify(logger.lines)).not.toContain('pw');
    await createKubeClient({
      server: 'https://k.example',
      credential: countingSource(['t']),
      fetch: f.fetch,
      env: { https_proxy: 'http://proxy:3128', no_proxy: '.example' },
    }).request({ path: '/a' });
    expect(f.calls[1]?.init.dispatcher).not.toBeInstanceOf(ProxyAgent);
  });

  it('insecureSkipTlsVerify logs a warning; webSocketOptions carry auth, CA and verification', async () => {
    const logger = new MemoryLogger();
    const client = createKubeClient({
      server: 'https://k',
      credential: countingSource(['t']),
      insecureSkipTlsVerify: true,
      logger,
      env: {},
    });
    expect(logger.lines.some((l) => l.level === 'warn' && l.message.includes('insecureSkipTlsVerify'))).toBe(
      true,
    );
    expect(await client.webSocketOptions()).toMatchObject({
      headers: { Authorization: 'Bearer t' },
      rejectUnauthorized: false,
    });
    const secure = createKubeClient({
      server: 'https://k',
      credential: countingSource(['t']),
      ca: ['CA-PEM'],
      env: {},
    });
    expect(await secure.webSocketOptions()).toMatchObject({ ca: 'CA-PEM', rejectUnauthorized: true });
    const named = createKubeClient({
      server: 'https://10.0.0.1',
      credential: countingSource(['t']),
      tlsServerName: 'api.example',
      env: {},
    });
    expect((await named.webSocketOptions()).servername).toBe('api.example');
    const proxied = createKubeClient({
      server: 'https://k',
      credential: countingSource(['t']),
      env: { HTTPS_PROXY: 'http://proxy:3128' },
    });
    expect((await proxied.webSocketOptions()).agent).toBeDefined();
    expect((await secure.webSocketOptions()).agent).toBeUndefined();
  });

  it('client certificates go into the dispatcher and webSocketOptions; bearerToken() is undefined for them', async () => {
    const cert: CredentialSource = {
      description: 'client certificate',
      get: async () => ({ clientCert: { cert: 'CERT', key: new Secret('KEY') } }),
    };
    const f = fakeFetch(() => ({ status: 200, body: {} }));
    const client = createKubeClient({ server: 'https://k', credential: cert, fetch: f.fetch, env: {} });
    await client.request({ path: '/a' });
    await client.request({ path: '/b' });
    expect(f.calls[0]?.init.dispatcher).toBe(f.calls[1]?.init.dispatcher);
    expect(f.calls[0]?.init.headers.Authorization).toBeUndefined();
    expect(await client.bearerToken()).toBeUndefined();
    expect(await client.webSocketOptions()).toMatchObject({ cert: 'CERT', key: 'KEY', headers: {} });
  });

  it('bearerToken() returns the current token and its expiry', async () => {
    const client = createKubeClient({ server: 'https://k', credential: countingSource(['t'], 123), env: {} });
    const t = await client.bearerToken();
    expect(t?.token.reveal()).toBe('t');
    expect(t?.expiresAt).toBe(123);
  });
});
