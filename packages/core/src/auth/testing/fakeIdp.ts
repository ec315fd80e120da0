// A small fake OIDC provider (and OpenShift OAuth server) on 127.0.0.1 for unit tests. Not exported from the package.
import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeIdpOptions {
  /** Seconds an id_token lives. Default 3600. */
  idTokenTtl?: number;
  /** Device poll interval to announce (seconds); undefined = omit it. Default 1. */
  interval?: number | undefined;
  deviceExpiresIn?: number;
}

type DeviceState = 'pending' | 'approved' | 'denied' | 'expired';

export class FakeIdp {
  issuer = '';
  readonly clientId = 'kubernetes';
  readonly requests: { path: string; grant?: string }[] = [];
  /** Answers for successive device polls before the approval state applies. */
  devicePlan: ('pending' | 'slow_down')[] = [];
  deviceState: DeviceState = 'pending';
  refreshCount = 0;
  /** When set, the token endpoint answers this OAuth error for refresh grants. */
  refreshError: string | undefined;
  /** Currently valid refresh tokens -> grant id. Reusing a rotated one revokes the grant. */
  private readonly refreshTokens = new Map<string, string>();
  private readonly usedRefreshTokens = new Map<string, string>();
  private readonly revoked = new Set<string>();
  private readonly codes = new Map<string, { challenge: string; nonce?: string; redirectUri: string }>();
  private readonly key = generateKeyPairSync('rsa', { modulusLength: 2048 });
  private readonly server = createServer((req, res) => void this.handle(req, res));
  constructor(readonly options: FakeIdpOptions = {}) {}

  async start(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    this.issuer = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  grants(path: string, grant?: string): number {
    return this.requests.filter((r) => r.path === path && (grant === undefined || r.grant === grant)).length;
  }

  idToken(claims: Record<string, unknown> = {}): string {
    const now = Math.floor(Date.now() / 1000);
    const header = { alg: 'RS256', typ: 'JWT', kid: 'k1' };
    const payload = {
      iss: this.issuer,
      aud: this.clientId,
      jti: randomBytes(6).toString('hex'),
      sub: 'alice',
      email: 'alice@example.com',
      groups: ['devs'],
      iat: now,
      exp: now + (this.options.idTokenTtl ?? 3600),
      ...claims,
    };
    const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const data = `${enc(header)}.${enc(payload)}`;
    return `${data}.${sign('sha256', Buffer.from(data), this.key.privateKey).toString('base64url')}`;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.issuer);
    const body = new URLSearchParams(await readBody(req));
    this.requests.push({
      path: url.pathname,
      ...(body.get('grant_type') ? { grant: body.get('grant_type') as string } : {}),
    });
    const json = (status: number, value: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(value));
    };
    const oauthError = (error: string, description?: string) =>
      json(400, { error, ...(description ? { error_description: description } : {}) });
    switch (url.pathname) {
      case '/.well-known/openid-configuration':
        return json(200, {
          issuer: this.issuer,
          authorization_endpoint: `${this.issuer}/authorize`,
          token_endpoint: `${this.issuer}/token`,
          device_authorization_endpoint: `${this.issuer}/device`,
          jwks_uri: `${this.issuer}/jwks`,
          response_types_supported: ['code'],
          id_token_signing_alg_values_supported: ['RS256'],
          code_challenge_methods_supported: ['S256'],
        });
      case '/.well-known/oauth-authorization-server':
        return json(200, {
          issuer: this.issuer,
          authorization_endpoint: `${this.issuer}/oauth/authorize`,
          token_endpoint: `${this.issuer}/oauth/token`,
          code_challenge_methods_supported: ['plain', 'S256'],
        });
      case '/jwks':
        return json(200, {
          keys: [{ ...this.key.publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'RS256', use: 'sig' }],
        });
      case '/device':
        return json(200, {
          device_code: 'dev-code-1',
          user_code: 'ABCD-EFGH',
          verification_uri: `${this.issuer}/device/verify`,
          verification_uri_complete: `${this.issuer}/device/verify?user_code=ABCD-EFGH`,
          expires_in: this.options.deviceExpiresIn ?? 600,
          ...(this.options.interval !== undefined ? { interval: this.options.interval } : {}),
        });
      case '/authorize':
      case '/oauth/authorize': {
        const code = randomBytes(8).toString('hex');
        const redirectUri = url.searchParams.get('redirect_uri') ?? '';
        const nonce = url.searchParams.get('nonce');
        this.codes.set(code, {
          challenge: url.searchParams.get('code_challenge') ?? '',
          redirectUri,
          ...(nonce ? { nonce } : {}),
        });
        const to = new URL(redirectUri);
        to.searchParams.set('code', code);
        to.searchParams.set('state', url.searchParams.get('state') ?? '');
        res.writeHead(302, { location: to.href });
        return void res.end();
      }
      case '/token':
      case '/oauth/token':
        return this.token(body, url.pathname === '/oauth/token', json, oauthError);
      default:
        return json(404, { error: 'not_found' });
    }
  }

  private token(
    body: URLSearchParams,
    openshift: boolean,
    json: (s: number, v: unknown) => void,
    oauthError: (e: string, d?: string) => void,
  ): void {
    const grant = body.get('grant_type');
    if (grant === 'urn:ietf:params:oauth:grant-type:device_code') {
      const next = this.devicePlan.shift();
      if (next !== undefined) return oauthError(next === 'slow_down' ? 'slow_down' : 'authorization_pending');
      if (this.deviceState === 'pending') return oauthError('authorization_pending');
      if (this.deviceState === 'denied') return oauthError('access_denied', 'the user said no');
      if (this.deviceState === 'expired') return oauthError('expired_token');
      return json(200, this.issue());
    }
    if (grant === 'authorization_code') {
      const entry = this.codes.get(body.get('code') ?? '');
      if (entry === undefined) return oauthError('invalid_grant', 'unknown code');
      this.codes.delete(body.get('code') ?? '');
      const challenge = createHash('sha256')
        .update(body.get('code_verifier') ?? '')
        .digest('base64url');
      if (challenge !== entry.challenge) return oauthError('invalid_grant', 'PKCE verification failed');
      if (body.get('redirect_uri') !== entry.redirectUri)
        return oauthError('invalid_grant', 'redirect_uri mismatch');
      if (openshift)
        return json(200, {
          access_token: `sha256~${randomBytes(16).toString('hex')}`,
          token_type: 'Bearer',
          expires_in: 86400,
        });
      return json(200, this.issue(entry.nonce));
    }
    if (grant === 'refresh_token') {
      this.refreshCount++;
      if (this.refreshError !== undefined) return oauthError(this.refreshError);
      const presented = body.get('refresh_token') ?? '';
      const reused = this.usedRefreshTokens.get(presented);
      if (reused !== undefined) {
        this.revoked.add(reused);
        return oauthError('invalid_grant', 'refresh token reused; grant revoked');
      }
      const grantId = this.refreshTokens.get(presented);
      if (grantId === undefined || this.revoked.has(grantId))
        return oauthError('invalid_grant', 'grant revoked');
      this.refreshTokens.delete(presented);
      this.usedRefreshTokens.set(presented, grantId);
      return json(200, this.issue(undefined, grantId));
    }
    return oauthError('unsupported_grant_type');
  }

  private issue(nonce?: string, grantId = randomBytes(4).toString('hex')): Record<string, unknown> {
    const refresh = `rt-${randomBytes(12).toString('hex')}`;
    this.refreshTokens.set(refresh, grantId);
    return {
      access_token: `at-${randomBytes(8).toString('hex')}`,
      token_type: 'Bearer',
      expires_in: this.options.idTokenTtl ?? 3600,
      id_token: this.idToken(nonce !== undefined ? { nonce } : {}),
      refresh_token: refresh,
      scope: 'openid profile email offline_access groups',
    };
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let data = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (data += c));
    req.on('end', () => resolve(data));
  });
}
