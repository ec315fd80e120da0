import { describe, expect, it } from 'vitest';
import { Secret } from '../secret.js';
import { buildSessionEnv } from './buildSessionEnv.js';

describe('buildSessionEnv', () => {
  const base = {
    dashboardUrl: 'http://127.0.0.1:41234',
    rayClientAddress: 'ray://127.0.0.1:41235',
    tokenVersion: 1,
  };

  it('token clusters: RAY_AUTH_MODE=token, the token untouched, RAY_ADDRESS; ray:// beside it', () => {
    const token = 'AbC+/dEf==';
    const env = buildSessionEnv({ ...base, auth: true, token: new Secret(token) });
    expect(env.env).toEqual({
      RAY_AUTH_MODE: 'token',
      RAY_AUTH_TOKEN: token,
      RAY_ADDRESS: 'http://127.0.0.1:41234',
    });
    expect(env.rayClientAddress).toBe('ray://127.0.0.1:41235');
    expect(env.tokenVersion).toBe(1);
  });

  it('a token file instead of the token', () => {
    const env = buildSessionEnv({
      ...base,
      auth: true,
      token: new Secret('t'),
      tokenFile: '/run/x.token',
      tokenExpiresAt: 5,
    });
    expect(env.env).toEqual({
      RAY_AUTH_MODE: 'token',
      RAY_AUTH_TOKEN_PATH: '/run/x.token',
      RAY_ADDRESS: 'http://127.0.0.1:41234',
    });
    expect(env.tokenExpiresAt).toBe(5);
  });

  it('no-auth clusters: only RAY_ADDRESS', () => {
    expect(buildSessionEnv({ ...base, auth: false }).env).toEqual({ RAY_ADDRESS: 'http://127.0.0.1:41234' });
  });

  it('auth without a token is an error, never an empty RAY_AUTH_TOKEN', () => {
    expect(() => buildSessionEnv({ ...base, auth: true })).toThrow(/needs a Ray token/);
  });

  it('never the historic mode value k8s', () => {
    expect(JSON.stringify(buildSessionEnv({ ...base, auth: true, token: new Secret('t') }))).not.toMatch(
      /k8s/,
    );
  });
});
