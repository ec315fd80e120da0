import { ResponseBodyError } from 'openid-client';
import { describe, expect, it } from 'vitest';
import { RayConnectError } from '../errors.js';
import { mapIdpError } from './idpErrors.js';

const issuer = 'https://idp.example.com';
const fetchFailed = (code: string) =>
  new TypeError('fetch failed', { cause: Object.assign(new Error(code), { code }) });
const oauthError = (body: Record<string, string>) =>
  new ResponseBodyError('server responded with an error in the response body', {
    cause: body,
    response: new Response(JSON.stringify(body), { status: 400 }),
  });

describe('mapIdpError', () => {
  it.each([
    ['SELF_SIGNED_CERT_IN_CHAIN', 'TLS_UNTRUSTED'],
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'TLS_UNTRUSTED'],
    ['ERR_TLS_CERT_ALTNAME_INVALID', 'TLS_UNTRUSTED'],
    ['CERT_HAS_EXPIRED', 'TLS_UNTRUSTED'],
    ['ECONNREFUSED', 'IDP_UNREACHABLE'],
    ['ENOTFOUND', 'IDP_UNREACHABLE'],
    ['UND_ERR_CONNECT_TIMEOUT', 'IDP_UNREACHABLE'],
  ])('%s -> %s, naming the issuer', (libCode, code) => {
    const e = mapIdpError(fetchFailed(libCode), issuer, 'Discovering the identity provider');
    expect(e).toMatchObject({ code, details: { issuer } });
    expect(e.message).toContain(issuer);
    expect(e.fix).toBeTruthy();
  });

  it.each([
    ['access_denied', 'LOGIN_CANCELLED'],
    ['expired_token', 'DEVICE_CODE_EXPIRED'],
    ['invalid_grant', 'REFRESH_FAILED'],
    ['invalid_client', 'IDP_ERROR'],
  ])('OAuth error %s -> %s', (error, code) => {
    expect(mapIdpError(oauthError({ error, error_description: 'because' }), issuer, 'x').code).toBe(code);
  });

  it('keeps a RayConnectError and wraps anything else as IDP_ERROR', () => {
    const ours = new RayConnectError('LOGIN_CANCELLED', 'cancelled');
    expect(mapIdpError(ours, issuer, 'x')).toBe(ours);
    expect(mapIdpError(new Error('boom'), issuer, 'Refreshing')).toMatchObject({
      code: 'IDP_ERROR',
      message: `Refreshing at ${issuer} failed: boom`,
    });
  });
});
