import { describe, expect, it } from 'vitest';
import { RayConnectError } from '../errors.js';
import { FakeClock } from '../ports/Clock.js';
import { Secret } from '../secret.js';
import { oidcAuthProviderSource } from './oidcAuthProviderSource.js';
import type { AuthProviderRefreshInput } from './refreshAuthProviderToken.js';

const clock = () => new FakeClock(1_800_000_000_000);
function jwt(expSeconds: number, sub = 'alice'): string {
  const b = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${b({ alg: 'RS256' })}.${b({ sub, exp: expSeconds })}.sig`;
}
const readFile = async (p: string) => {
  if (p === '/idp-ca.pem') return 'IDP-CA';
  throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
};

function provider(idToken: string, extra: Record<string, string> = {}, refresh = 'rt-1') {
  return {
    name: 'oidc',
    config: { 'idp-issuer-url': 'https://idp.example', 'client-id': 'kube', ...extra },
    secrets: { 'id-token': new Secret(idToken), 'refresh-token': new Secret(refresh) },
  };
}

describe('oidcAuthProviderSource', () => {
  it('uses the id-token while its exp is in the future', async () => {
    const c = clock();
    const calls: AuthProviderRefreshInput[] = [];
    const s = oidcAuthProviderSource({
      provider: provider(jwt(c.now() / 1000 + 3600)),
      readFile,
      clock: c,
      refresh: async (i) => (calls.push(i), { idToken: 'x' }),
    });
    const cred = await s.get();
    expect(cred.expiresAt).toBe(c.now() + 3600_000);
    expect(calls).toHaveLength(0);
  });

  it('refreshes an expired id-token once for concurrent callers, keeps the rotated refresh token, passes the IdP CA', async () => {
    const c = clock();
    const calls: AuthProviderRefreshInput[] = [];
    const fresh = jwt(c.now() / 1000 + 3600);
    const rotated: string[] = [];
    const s = oidcAuthProviderSource({
      provider: provider(jwt(c.now() / 1000 - 10), { 'idp-certificate-authority': '/idp-ca.pem' }),
      readFile,
      clock: c,
      refresh: async (i) => {
        calls.push(i);
        return { idToken: fresh, refreshToken: `rt-${calls.length + 1}` };
      },
      onRefreshed: (t) => rotated.push(t.refreshToken?.reveal() ?? ''),
    });
    const all = await Promise.all([s.get(), s.get(), s.get()]);
    expect(all.every((x) => x.token?.reveal() === fresh)).toBe(true);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ issuer: 'https://idp.example', clientId: 'kube', ca: 'IDP-CA' });
    expect(calls[0]?.refreshToken.reveal()).toBe('rt-1');
    expect(rotated).toEqual(['rt-2']);
    s.invalidate?.();
    await s.get();
    expect(calls[1]?.refreshToken.reveal()).toBe('rt-2');
  });

  it('inline idp-certificate-authority-data is decoded', async () => {
    const c = clock();
    let ca: string | undefined;
    const s = oidcAuthProviderSource({
      provider: provider(jwt(0), {
        'idp-certificate-authority-data': Buffer.from('INLINE').toString('base64'),
      }),
      readFile,
      clock: c,
      refresh: async (i) => ((ca = i.ca), { idToken: jwt(c.now() / 1000 + 60) }),
    });
    await s.get();
    expect(ca).toBe('INLINE');
  });

  it('expired and nothing to refresh with: TOKEN_EXPIRED naming what is missing', async () => {
    const s = oidcAuthProviderSource({
      provider: { name: 'oidc', config: {}, secrets: { 'id-token': new Secret(jwt(0)) } },
      readFile,
      clock: clock(),
    });
    await expect(s.get()).rejects.toMatchObject({
      code: 'TOKEN_EXPIRED',
      details: { missing: 'refresh-token, idp-issuer-url, client-id' },
    });
  });

  it('refresh failures propagate (REFRESH_FAILED) and the next get() tries again', async () => {
    let n = 0;
    const c = clock();
    const s = oidcAuthProviderSource({
      provider: provider(jwt(0)),
      readFile,
      clock: c,
      refresh: async () => {
        n++;
        if (n === 1) throw new RayConnectError('REFRESH_FAILED', 'invalid_grant');
        return { idToken: jwt(c.now() / 1000 + 60) };
      },
    });
    await expect(s.get()).rejects.toMatchObject({ code: 'REFRESH_FAILED' });
    expect((await s.get()).token).toBeDefined();
  });
});
