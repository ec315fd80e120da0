import { caFix, NEUTRAL_CA_SETTINGS } from '@ray-connect/shared';
import { AuthorizationResponseError, ClientError, ResponseBodyError } from 'openid-client';
import { RayConnectError } from '../errors.js';

const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_SIGNATURE_FAILURE',
]);
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
  'OAUTH_TIMEOUT',
]);

/**
 * The one place where identity-provider failures (openid-client, fetch, TLS) become RayConnectErrors.
 * `attempting` says what we were doing ("Signing in with the device code"); the message names the issuer.
 * OAuth error bodies contribute only their `error` and `error_description`, never tokens.
 */
export function mapIdpError(e: unknown, issuer: string, attempting: string): RayConnectError {
  if (e instanceof RayConnectError) return e;
  const details = { issuer };
  if (e instanceof ResponseBodyError || e instanceof AuthorizationResponseError) {
    const description = e.error_description ? `: ${e.error_description}` : '';
    if (e.error === 'access_denied') {
      return new RayConnectError(
        'LOGIN_CANCELLED',
        `${attempting}: the sign-in was denied at ${issuer}${description}.`,
        { details, cause: e },
      );
    }
    if (e.error === 'expired_token') {
      return new RayConnectError(
        'DEVICE_CODE_EXPIRED',
        `${attempting}: the device code expired before it was approved.`,
        {
          fix: 'Start the sign-in again and enter the new code.',
          details,
          cause: e,
        },
      );
    }
    if (e.error === 'invalid_grant') {
      return new RayConnectError(
        'REFRESH_FAILED',
        `${attempting}: ${issuer} no longer accepts this sign-in (invalid_grant${description}).`,
        {
          fix: 'Sign in again.',
          details,
          cause: e,
        },
      );
    }
    return new RayConnectError('IDP_ERROR', `${attempting}: ${issuer} answered ${e.error}${description}.`, {
      details,
      cause: e,
    });
  }
  const code = causeCode(e);
  if (code !== undefined && TLS_CODES.has(code)) {
    return new RayConnectError(
      'TLS_UNTRUSTED',
      `${attempting}: the certificate of the identity provider ${issuer} is not trusted (${code}).`,
      {
        fix: caFix('identity-provider', NEUTRAL_CA_SETTINGS, issuer),
        details: { ...details, caFor: 'identity-provider' },
        cause: e,
      },
    );
  }
  if (code !== undefined && NETWORK_CODES.has(code)) {
    return new RayConnectError(
      'IDP_UNREACHABLE',
      `${attempting}: cannot reach the identity provider ${issuer} (${code}).`,
      {
        fix: 'Check the issuer URL, your network, VPN and HTTPS_PROXY / NO_PROXY.',
        details,
        cause: e,
      },
    );
  }
  if (e instanceof TypeError && e.message === 'fetch failed') {
    return new RayConnectError(
      'IDP_UNREACHABLE',
      `${attempting}: cannot reach the identity provider ${issuer}.`,
      { details, cause: e },
    );
  }
  const reason = e instanceof ClientError || e instanceof Error ? e.message : String(e);
  return new RayConnectError('IDP_ERROR', `${attempting} at ${issuer} failed: ${reason}`, {
    details,
    cause: e,
  });
}

function causeCode(e: unknown): string | undefined {
  for (let cur: unknown = e, depth = 0; cur !== undefined && cur !== null && depth < 6; depth++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string' && (TLS_CODES.has(code) || NETWORK_CODES.has(code))) return code;
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}
