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
  /**
   * Where the provider sends the browser back, when it is not our loopback listener (a page of the host, e.g.
   * the Jupyter server's callback): no listener is opened; the host hands the redirect over with `deliver`.
   */
  redirectUri?: string;
}

export interface AuthCodeFlow {
  url: string;
  /** The redirect URI sent to the provider (the loopback listener's, or the one given). */
  redirectUri: string;
  /** The `state` sent to the provider: the redirect that carries it is this flow's answer. */
  state: string;
  tokens: Promise<oidc.TokenEndpointResponse>;
  /**
   * Hands over the provider's redirect (only its query is read: code, state, iss, error). The loopback listener
   * calls it too. Resolves when the code is redeemed; rejects with LOGIN_STATE_MISMATCH (not this flow's
   * answer; the flow keeps waiting), LOGIN_NOT_FOUND (the flow already ended) or the redemption's error (which
   * also ends the flow: LOGIN_CANCELLED for access_denied, IDP_ERROR...).
   */
  deliver(callback: URL): Promise<void>;
  cancel(): void;
}

/**
 * Authorization code + PKCE (S256): builds the URL to open, waits for the redirect (on a loopback listener on
 * 127.0.0.1, or handed over by the host), checks `state` (and `nonce`), redeems the code. Timeout and cancel end
 * it with LOGIN_CANCELLED.
 */
export async function startAuthCodeFlow(input: AuthCodeFlowInput): Promise<AuthCodeFlow> {
  const external = input.redirectUri !== undefined ? externalRedirect(input.redirectUri) : undefined;
  const verifier = oidc.randomPKCECodeVerifier();
  const challenge = await oidc.calculatePKCECodeChallenge(verifier);
  const state = oidc.randomState();
  const nonce = input.oidc ? oidc.randomNonce() : undefined;
  let settle: { resolve(t: oidc.TokenEndpointResponse): void; reject(e: unknown): void } | undefined;
  const tokens = new Promise<oidc.TokenEndpointResponse>((resolve, reject) => (settle = { resolve, reject }));
  tokens.catch(() => undefined);
  let finished = false;
  let redeeming: { query: string; result: Promise<void> } | undefined;

  const deliver = (callback: URL): Promise<void> => {
    if (callback.searchParams.get('state') !== state)
      return Promise.reject(
        new RayConnectError(
          'LOGIN_STATE_MISMATCH',
          'This answer from the sign-in page does not belong to the sign-in in progress (its state differs).',
          { fix: 'Start the sign-in again from the editor and finish it in the tab it opens.' },
        ),
      );
    // The same answer twice (a reloaded page): one redemption, both callers get its outcome.
    if (redeeming !== undefined && redeeming.query === callback.search) return redeeming.result;
    if (finished || redeeming !== undefined)
      return Promise.reject(
        new RayConnectError('LOGIN_NOT_FOUND', 'This sign-in has already finished.', {
          fix: 'Start the sign-in again.',
        }),
      );
    redeeming = { query: callback.search, result: redeem(callback) };
    return redeeming.result;
  };

  async function redeem(callback: URL): Promise<void> {
    // The token request's redirect_uri must be the one sent, whatever host name the callback was seen under.
    const current = new URL(redirectUri);
    current.search = callback.search;
    try {
      const result = await oidc.authorizationCodeGrant(input.config, current, {
        pkceCodeVerifier: verifier,
        expectedState: state,
        ...(nonce !== undefined ? { expectedNonce: nonce, idTokenExpected: true } : {}),
      });
      end(() => settle?.resolve(result));
    } catch (e) {
      let error = mapIdpError(e, input.issuer, 'Completing the browser sign-in');
      // invalid_grant here is the code (used, expired, or PKCE/redirect not matching), not a stored sign-in.
      if (error.code === 'REFRESH_FAILED') {
        const said =
          e instanceof oidc.ResponseBodyError && e.error_description ? `: ${e.error_description}` : '';
        error = new RayConnectError(
          'IDP_ERROR',
          `Completing the browser sign-in: ${input.issuer} refused the code from the sign-in page (invalid_grant${said}).`,
          { fix: 'Start the sign-in again.', details: { issuer: input.issuer }, cause: e },
        );
      }
      end(() => settle?.reject(error));
      throw error;
    }
  }

  const listener =
    external === undefined
      ? await listenForRedirect(async (url) => {
          try {
            await deliver(url);
            return { kind: 'done' };
          } catch (e) {
            const error = e as RayConnectError;
            if (error.code === 'LOGIN_STATE_MISMATCH' || error.code === 'LOGIN_NOT_FOUND')
              return { kind: 'ignore', message: error.message };
            return { kind: 'failed', message: error.message };
          }
        })
      : undefined;
  const redirectUri = external ?? listener?.redirectUri ?? '';

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
    void listener?.close();
  }

  const url = oidc.buildAuthorizationUrl(input.config, {
    redirect_uri: redirectUri,
    response_type: 'code',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state,
    ...(nonce !== undefined ? { nonce } : {}),
    ...input.parameters,
  });
  return {
    url: url.href,
    redirectUri,
    state,
    tokens,
    deliver,
    cancel: () =>
      end(() => settle?.reject(new RayConnectError('LOGIN_CANCELLED', 'The sign-in was cancelled.'))),
  };
}

/** A redirect URI given by the host: an absolute http(s) URL without a fragment. */
function externalRedirect(value: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'https:' && url.protocol !== 'http:') || url.hash !== '')
    throw new RayConnectError(
      'BAD_REQUEST',
      `The redirect URI ${JSON.stringify(value)} is not an absolute http(s) URL without a fragment.`,
      {
        fix: 'Pass the full URL of the callback page, e.g. https://host/user/alice/ray-connect/oauth/callback.',
      },
    );
  return url.href;
}
