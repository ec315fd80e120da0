import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RayConnectError } from '../errors.js';
import { FakeClock } from '../ports/Clock.js';
import { MemorySecretStore } from '../ports/SecretStore.js';
import { Secret } from '../secret.js';
import { readJwtClaims, readJwtTimes } from './jwt.js';
import { signInWithToken } from './tokenSignIn.js';

const testdata = (name: string) =>
  readFileSync(new URL(`../../testdata/auth/${name}`, import.meta.url), 'utf8');
const jwt = (claims: Record<string, unknown>) =>
  `eyJhbGciOiJSUzI1NiJ9.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.c2ln`;
const now = 1_800_000_000_000;

describe('signInWithToken', () => {
  const verifyAs = (username: string) => async () => ({ username, groups: ['system:serviceaccounts'] });

  it('checks the token with the API server at once and stores who it is', async () => {
    const store = new MemorySecretStore();
    const token = new Secret(
      jwt({ sub: 'system:serviceaccount:ray:notebook', exp: now / 1000 + 3600, iat: now / 1000 }),
    );
    const session = await signInWithToken(
      { clusterId: 'c1', token },
      { store, clock: new FakeClock(now), verifyIdentity: verifyAs('system:serviceaccount:ray:notebook') },
    );
    expect(session.info).toMatchObject({
      method: 'token',
      refreshable: false,
      expiresAt: now + 3_600_000,
      identity: { username: 'system:serviceaccount:ray:notebook' },
    });
    expect((await store.keys('ray-connect/c1/')).sort()).toEqual([
      'ray-connect/c1/session',
      'ray-connect/c1/token',
    ]);
  });

  it('accepts an opaque OpenShift token (no expiry known) and trims a trailing newline', async () => {
    const store = new MemorySecretStore();
    const session = await signInWithToken(
      { clusterId: 'ocp', token: new Secret('sha256~abcdef\n'), method: 'openshift' },
      { store, verifyIdentity: verifyAs('developer') },
    );
    expect(session.token.reveal()).toBe('sha256~abcdef');
    expect(session.info.expiresAt).toBeUndefined();
    expect(session.info.method).toBe('openshift');
  });

  it('refuses an expired JWT without asking the API server', async () => {
    let asked = false;
    const verifyIdentity = async () => {
      asked = true;
      return { username: 'x', groups: [] };
    };
    const token = new Secret(jwt({ exp: now / 1000 - 10 }));
    await expect(
      signInWithToken(
        { clusterId: 'c1', token },
        { store: new MemorySecretStore(), clock: new FakeClock(now), verifyIdentity },
      ),
    ).rejects.toMatchObject({ code: 'TOKEN_EXPIRED' });
    expect(asked).toBe(false);
  });

  it('refuses text that is not a token', async () => {
    const error = await signInWithToken(
      { clusterId: 'c1', token: new Secret(testdata('token-with-spaces.txt')) },
      { store: new MemorySecretStore(), verifyIdentity: verifyAs('x') },
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'TOKEN_INVALID' });
    expect(String((error as Error).message)).not.toContain('token with spaces');
  });

  it('passes on the API server verdict and stores nothing', async () => {
    const store = new MemorySecretStore();
    const verifyIdentity = async () => {
      throw new RayConnectError('TOKEN_INVALID', 'The API server rejected the token (401).');
    };
    await expect(
      signInWithToken({ clusterId: 'c1', token: new Secret('abc') }, { store, verifyIdentity }),
    ).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
    expect(await store.keys('')).toEqual([]);
  });
});

describe('readJwtClaims', () => {
  it('reads nothing from malformed input', () => {
    expect(readJwtClaims(testdata('not-a-jwt.txt'))).toBeUndefined();
    expect(readJwtClaims(testdata('jwt-with-bad-payload.txt'))).toBeUndefined();
    expect(readJwtTimes(testdata('not-a-jwt.txt'))).toEqual({});
  });
});
