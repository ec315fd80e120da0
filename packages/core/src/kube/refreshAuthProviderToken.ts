import * as oidc from 'openid-client';
import { Agent, fetch as undiciFetch } from 'undici';
import { RayConnectError } from '../errors.js';
import type { Secret } from '../secret.js';
import { errorCodeOf } from './mapKubeError.js';

export interface AuthProviderRefreshInput {
  issuer: string;
  clientId: string;
  clientSecret?: Secret;
  refreshToken: Secret;
  /** PEM of the identity provider's CA (idp-certificate-authority(-data)). */
  ca?: string;
}

export interface AuthProviderRefreshResult {
  idToken: string;
  /** The rotated refresh token, when the provider sent one. */
  refreshToken?: string;
}

export type RefreshAuthProviderToken = (
  input: AuthProviderRefreshInput,
) => Promise<AuthProviderRefreshResult>;

/**
 * One refresh_token grant for kubeconfig's auth-provider oidc (openid-client v6). Deliberately minimal: no
 * cross-process lock (kubeconfig tokens are not ours to persist); stored sign-ins use auth/refreshSession instead.
 */
export const refreshAuthProviderToken: RefreshAuthProviderToken = async (input) => {
  const dispatcher = input.ca !== undefined ? new Agent({ connect: { ca: input.ca } }) : undefined;
  const customFetch: oidc.CustomFetch = (url, options) =>
    undiciFetch(url, {
      ...(options as object),
      ...(dispatcher ? { dispatcher } : {}),
    }) as unknown as Promise<Response>;
  try {
    const config = await oidc.discovery(
      new URL(input.issuer),
      input.clientId,
      undefined,
      input.clientSecret ? oidc.ClientSecretPost(input.clientSecret.reveal()) : oidc.None(),
      { [oidc.customFetch]: customFetch, timeout: 30 },
    );
    const tokens = await oidc.refreshTokenGrant(config, input.refreshToken.reveal());
    if (!tokens.id_token) {
      throw new RayConnectError(
        'REFRESH_FAILED',
        `The identity provider ${input.issuer} did not return an id_token on refresh.`,
        {
          fix: 'Sign in again.',
          details: { issuer: input.issuer },
        },
      );
    }
    return tokens.refresh_token
      ? { idToken: tokens.id_token, refreshToken: tokens.refresh_token }
      : { idToken: tokens.id_token };
  } catch (e) {
    throw mapRefreshError(e, input.issuer);
  } finally {
    void dispatcher?.close().catch(() => undefined);
  }
};

function mapRefreshError(e: unknown, issuer: string): RayConnectError {
  if (e instanceof RayConnectError) return e;
  if (e instanceof oidc.ResponseBodyError) {
    return new RayConnectError(
      'REFRESH_FAILED',
      `The identity provider ${issuer} refused to refresh the token (${e.error}).`,
      {
        fix: 'Sign in again.',
        details: { issuer, error: e.error },
        cause: e,
      },
    );
  }
  const code = errorCodeOf(e);
  return new RayConnectError(
    'IDP_UNREACHABLE',
    `Cannot refresh the token at ${issuer}${code ? ` (${code})` : ''}.`,
    {
      fix: 'Check the network and the identity provider CA (idp-certificate-authority), then retry.',
      details: { issuer, errno: code },
      cause: e,
    },
  );
}
