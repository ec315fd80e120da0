import * as oidc from 'openid-client';
import { RayConnectError } from '../errors.js';
import { mapIdpError } from './idpErrors.js';
import { listenForRedirect } from './loopback.js';

export interface AuthCodeFlowInput {
  config: oidc.Configuration;
  /** For messages: the issuer or OAuth server. */
  issuer: string;
  /** Extra authorization parameters (scope, prompt...). */
  parameters: Record<string, string>;
  /** Check a nonce in the id_token (OIDC). OpenShift OAuth issues no id_token. */
  oidc: boolean;
  /** Give up after this long. Default 5 minutes. */
  timeoutMs?: number;
}

export interface AuthCodeFlow {
  url: string;
  tokens: Promise<oidc.TokenEndpointResponse>;
  cancel(): void;
}

/**
 * Authorization code + PKCE (S256) with a loopback redirect on 127.0.0.1: builds the URL to open, waits for
 * the redirect, checks `state` (and `nonce`), redeems the code. Timeout and cancel end it with LOGIN_CANCELLED.
 */
export async function startAuthCodeFlow(input: AuthCodeFlowInput): Promise<AuthCodeFlow> {
  const verifier = oidc.randomPKCECodeVerifier();
  const challenge = await oidc.calculatePKCECodeChallenge(verifier);
  const state = oidc.randomState();
  const nonce = input.oidc ? oidc.randomNonce() : undefined;
  let settle: { resolve(t: oidc.TokenEndpointResponse): void; reject(e: unknown): void } | undefined;
  const tokens = new Promise<oidc.TokenEndpointResponse>((resolve, reject) => (settle = { resolve, reject }));
  tokens.catch(() => undefined);
  let finished = false;

  const listener = await listenForRedirect(async (url) => {
    if (finished) return { kind: 'ignore', message: 'This sign-in has already finished.' };
    if (url.searchParams.get('state') !== state)
      return { kind: 'ignore', message: 'The state does not match this sign-in.' };
    try {
      const result = await oidc.authorizationCodeGrant(input.config, url, {
        pkceCodeVerifier: verifier,
        expectedState: state,
        ...(nonce !== undefined ? { expectedNonce: nonce, idTokenExpected: true } : {}),
      });
      end(() => settle?.resolve(result));
      return { kind: 'done' };
    } catch (e) {
      const error = mapIdpError(e, input.issuer, 'Completing the browser sign-in');
      end(() => settle?.reject(error));
      return { kind: 'failed', message: error.message };
    }
  });

  const timeoutMs = input.timeoutMs ?? 5 * 60_000;
  const timer = setTimeout(
    () =>
      end(() =>
        settle?.reject(
          new RayConnectError(
            'LOGIN_CANCELLED',
            `The browser sign-in did not finish within ${Math.round(timeoutMs / 60_000) || 1} minutes.`,
            { fix: 'Start the sign-in again.' },
          ),
        ),
      ),
    timeoutMs,
  );
  timer.unref();
  function end(f: () => void) {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    f();
    void listener.close();
  }

  const url = oidc.buildAuthorizationUrl(input.config, {
    redirect_uri: listener.redirectUri,
    response_type: 'code',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state,
    ...(nonce !== undefined ? { nonce } : {}),
    ...input.parameters,
  });
  return {
    url: url.href,
    tokens,
    cancel: () =>
      end(() => settle?.reject(new RayConnectError('LOGIN_CANCELLED', 'The sign-in was cancelled.'))),
  };
}
