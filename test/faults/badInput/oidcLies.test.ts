// OIDC discovery and token responses that are malformed or lie, from a small local IdP started by the test:
// wrong issuer, wrong audience, expired id_token, wrong nonce, bad state, garbage bodies -> IDP_* codes (or
// LOGIN_CANCELLED / DEVICE_CODE_EXPIRED where the provider says so), nothing stored, no token in any message.
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  FakeBrowser,
  MemorySecretStore,
  isRayConnectError,
  startBrowserSignIn,
  startDeviceSignIn,
} from '../../../packages/core/src/index.js';
import { closedPort } from '../helpers.js';

const key = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ISSUED: string[] = [];

interface Lies {
  discovery?: (d: Record<string, unknown>) => unknown;
  discoveryRaw?: { status: number; body: string; type?: string };
  tokenRaw?: { status: number; body: string; type?: string };
  claims?: Record<string, unknown>;
  noIdToken?: boolean;
  idToken?: string;
  tokenType?: string;
  redirectState?: string;
}

let lies: Lies = {};
let issuer = '';
let lastNonce: string | undefined;
const server = createServer((req, res) => void handle(req, res));

function idToken(claims: Record<string, unknown>): string {
  const now = Math.floor(Date.now() / 1000);
  const payload = {
    iss: issuer,
    aud: 'kubernetes',
    sub: 'alice',
    iat: now,
    exp: now + 600,
    ...(lastNonce ? { nonce: lastNonce } : {}),
    ...claims,
  };
  const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const data = `${enc({ alg: 'RS256', typ: 'JWT', kid: 'k1' })}.${enc(payload)}`;
  return `${data}.${sign('sha256', Buffer.from(data), key.privateKey).toString('base64url')}`;
}

async function handle(req: IncomingMessage, res: ServerResponse) {
  const url = new URL(req.url ?? '/', issuer);
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const raw = (r: { status: number; body: string; type?: string }) => {
    res.writeHead(r.status, { 'content-type': r.type ?? 'application/json' });
    res.end(r.body);
  };
  const json = (status: number, v: unknown) => raw({ status, body: JSON.stringify(v) });
  switch (url.pathname) {
    case '/.well-known/openid-configuration': {
      if (lies.discoveryRaw) return raw(lies.discoveryRaw);
      const d = {
        issuer,
        authorization_endpoint: `${issuer}/authorize`,
        token_endpoint: `${issuer}/token`,
        device_authorization_endpoint: `${issuer}/device`,
        jwks_uri: `${issuer}/jwks`,
        response_types_supported: ['code'],
        id_token_signing_alg_values_supported: ['RS256'],
        code_challenge_methods_supported: ['S256'],
      };
      return json(200, lies.discovery ? lies.discovery(d) : d);
    }
    case '/jwks':
      return json(200, {
        keys: [{ ...key.publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'RS256', use: 'sig' }],
      });
    case '/device':
      return json(200, {
        device_code: 'dc',
        user_code: 'AAAA-BBBB',
        verification_uri: `${issuer}/verify`,
        expires_in: 600,
        interval: 1,
      });
    case '/authorize': {
      lastNonce = url.searchParams.get('nonce') ?? undefined;
      const to = new URL(url.searchParams.get('redirect_uri') ?? '');
      to.searchParams.set('code', 'code-1');
      to.searchParams.set('state', lies.redirectState ?? url.searchParams.get('state') ?? '');
      res.writeHead(302, { location: to.href });
      return void res.end();
    }
    case '/token': {
      if (lies.tokenRaw) return raw(lies.tokenRaw);
      const access = `at-${randomBytes(12).toString('hex')}`;
      const refresh = `rt-${randomBytes(12).toString('hex')}`;
      const id = lies.idToken ?? idToken(lies.claims ?? {});
      ISSUED.push(access, refresh, id);
      return json(200, {
        access_token: access,
        refresh_token: refresh,
        token_type: lies.tokenType ?? 'Bearer',
        expires_in: 600,
        ...(lies.noIdToken ? {} : { id_token: id }),
      });
    }
    default:
      return json(404, { error: 'not_found' });
  }
}

beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});
beforeEach(() => {
  lies = {};
  lastNonce = undefined;
});

const input = (over: Record<string, unknown> = {}) => ({
  clusterId: 'url:https://k.example:6443',
  issuer,
  clientId: 'kubernetes',
  allowInsecureRequests: true,
  ...over,
});

async function deviceOutcome(): Promise<{ store: MemorySecretStore; error: unknown }> {
  const store = new MemorySecretStore();
  try {
    const flow = await startDeviceSignIn(input(), { store });
    await flow.done;
    return { store, error: undefined };
  } catch (error) {
    return { store, error };
  }
}

function expectClean(error: unknown, codes: string[]) {
  expect(isRayConnectError(error), `not a RayConnectError: ${String(error)}`).toBe(true);
  const e = error as { code: string; toInfo(): unknown; message: string };
  expect(codes, `${e.code}: ${e.message}`).toContain(e.code);
  const text = JSON.stringify(e.toInfo());
  for (const t of ISSUED) expect(text.includes(t), 'an issued token in the error').toBe(false);
}

describe('device flow against a lying provider', () => {
  it('the honest provider works (control)', async () => {
    const { error, store } = await deviceOutcome();
    expect(error).toBeUndefined();
    expect((await store.keys('')).length).toBeGreaterThan(0);
  });

  it.each<[string, Lies, string[]]>([
    [
      'discovery names another issuer',
      { discovery: (d) => ({ ...d, issuer: 'https://evil.example' }) },
      ['IDP_ERROR'],
    ],
    [
      'discovery is HTML',
      { discoveryRaw: { status: 200, body: '<html>login</html>', type: 'text/html' } },
      ['IDP_ERROR'],
    ],
    ['discovery is not JSON', { discoveryRaw: { status: 200, body: '{"issuer": ' } }, ['IDP_ERROR']],
    [
      'discovery 500',
      { discoveryRaw: { status: 500, body: 'oops', type: 'text/plain' } },
      ['IDP_ERROR', 'IDP_UNREACHABLE'],
    ],
    ['discovery is a JSON list', { discoveryRaw: { status: 200, body: '[1,2]' } }, ['IDP_ERROR']],
    [
      'discovery without device endpoint',
      { discovery: (d) => ({ ...d, device_authorization_endpoint: undefined }) },
      ['IDP_ERROR'],
    ],
    ['id_token for another audience', { claims: { aud: 'someone-else' } }, ['IDP_ERROR']],
    ['id_token from another issuer', { claims: { iss: 'https://evil.example' } }, ['IDP_ERROR']],
    [
      'id_token already expired',
      { claims: { exp: Math.floor(Date.now() / 1000) - 3600, iat: Math.floor(Date.now() / 1000) - 7200 } },
      ['IDP_ERROR', 'TOKEN_EXPIRED'],
    ],
    ['id_token without sub', { claims: { sub: undefined } }, ['IDP_ERROR']],
    ['id_token is garbage', { idToken: 'not.a.jwt' }, ['IDP_ERROR']],
    ['no id_token at all', { noIdToken: true }, ['IDP_ERROR']],
    ['token_type is not Bearer', { tokenType: 'MAC' }, ['IDP_ERROR']],
    [
      'token response not JSON',
      { tokenRaw: { status: 200, body: 'access_token=x', type: 'text/plain' } },
      ['IDP_ERROR'],
    ],
    [
      'token endpoint 500 with HTML',
      { tokenRaw: { status: 500, body: '<html>down</html>', type: 'text/html' } },
      ['IDP_ERROR', 'IDP_UNREACHABLE'],
    ],
    [
      'OAuth error with a hostile description',
      {
        tokenRaw: {
          status: 400,
          body: JSON.stringify({ error: 'server_error', error_description: 'x'.repeat(5000) }),
        },
      },
      ['IDP_ERROR'],
    ],
    [
      'access_denied',
      { tokenRaw: { status: 400, body: JSON.stringify({ error: 'access_denied' }) } },
      ['LOGIN_CANCELLED'],
    ],
    [
      'expired_token',
      { tokenRaw: { status: 400, body: JSON.stringify({ error: 'expired_token' }) } },
      ['DEVICE_CODE_EXPIRED'],
    ],
  ])('%s', async (_label, l, codes) => {
    lies = l;
    const { error, store } = await deviceOutcome();
    expectClean(error, codes);
    expect(await store.keys(''), 'nothing stored after a failed sign-in').toEqual([]);
  });

  it('provider down (closed port) -> IDP_UNREACHABLE naming the issuer', async () => {
    const down = `http://127.0.0.1:${await closedPort()}`;
    const e = await startDeviceSignIn(input({ issuer: down }), { store: new MemorySecretStore() }).catch(
      (x) => x,
    );
    expectClean(e, ['IDP_UNREACHABLE']);
    expect((e as Error).message).toContain(down);
  });
});

describe('browser flow: bad state and bad nonce', () => {
  async function browserFlow() {
    const browser = new FakeBrowser();
    const flow = await startBrowserSignIn(input({ timeoutMs: 60_000 }), {
      store: new MemorySecretStore(),
      browser,
    });
    const url = browser.opened[0] ?? flow.url;
    // Act as the user's browser: follow the provider's redirect to the loopback listener.
    const r1 = await fetch(url, { redirect: 'manual' });
    const location = r1.headers.get('location') ?? '';
    const r2 = await fetch(location);
    return { flow, callback: r2, location };
  }

  it('a redirect with the wrong state is refused and does not end the sign-in; cancel ends it', async () => {
    lies = { redirectState: 'forged-state' };
    const { flow, callback } = await browserFlow();
    expect(callback.status).toBeGreaterThanOrEqual(400);
    const body = await callback.text();
    expect(body).not.toContain('code-1');
    flow.cancel();
    expectClean(await flow.done.catch((e) => e), ['LOGIN_CANCELLED']);
  });

  it('an id_token with the wrong nonce -> IDP_ERROR', async () => {
    lies = { claims: { nonce: 'replayed-nonce' } };
    const { flow } = await browserFlow();
    expectClean(await flow.done.catch((e) => e), ['IDP_ERROR']);
  });

  it('an id_token for another audience in the browser flow -> IDP_ERROR', async () => {
    lies = { claims: { aud: 'someone-else' } };
    const { flow } = await browserFlow();
    expectClean(await flow.done.catch((e) => e), ['IDP_ERROR']);
  });
});
