import type { SignInMethod, SignInState } from '@ray-connect/shared';
import type { KubeIdentity } from '../ports/KubeClient.js';
import type { Secret } from '../secret.js';

export type SessionMethod = Extract<SignInMethod, 'device' | 'browser' | 'openshift' | 'token'>;

/** What we keep about a sign-in besides its tokens: plain JSON, no secret. */
export interface SessionInfo {
  clusterId: string;
  method: SessionMethod;
  /** OIDC issuer (device, browser) or the OpenShift OAuth server. */
  issuer?: string;
  clientId?: string;
  scopes?: string[];
  /** PEM of the issuer's CA, so any process can refresh. */
  idpCa?: string;
  insecureSkipTlsVerify?: boolean;
  allowInsecureRequests?: boolean;
  /** Who the API server says we are (SelfSubjectReview), or the id_token's claims when not checked. */
  identity?: KubeIdentity;
  /** Epoch ms: when the Kubernetes token expires / was issued, if known. */
  expiresAt?: number;
  issuedAt?: number;
  signedInAt: number;
  refreshedAt?: number;
  /** A refresh token is stored, so the token can be renewed without the user. */
  refreshable: boolean;
  /** Set when a refresh failed for good (grant revoked): the session is over, "sign in again". */
  failure?: { code: 'REFRESH_FAILED' | 'TOKEN_EXPIRED'; message: string };
}

/** A signed-in session of one cluster: the token the API server accepts, and a refresh token if any. */
export interface Session {
  info: SessionInfo;
  /** The bearer token for the API server: the OIDC id_token, or an opaque OpenShift / pasted token. */
  token: Secret;
  refreshToken?: Secret;
  clientSecret?: Secret;
}

/** The SignInState a host shows for a stored session (no secret). */
export function signInStateOf(info: SessionInfo | undefined, now: number): SignInState {
  if (info === undefined) return { status: 'signed-out' };
  const state: SignInState = { status: 'signed-in', method: info.method };
  if (info.identity !== undefined)
    state.identity = { username: info.identity.username, groups: [...info.identity.groups] };
  if (info.expiresAt !== undefined) state.expiresAt = info.expiresAt;
  if (info.failure !== undefined && (info.expiresAt === undefined || info.expiresAt <= now)) {
    state.status = 'expired';
    state.error = { code: info.failure.code, message: info.failure.message, fix: 'Sign in again.' };
  } else if (
    info.expiresAt !== undefined &&
    info.expiresAt <= now &&
    info.failure === undefined &&
    !canRefresh(info)
  ) {
    state.status = 'expired';
    state.error = { code: 'TOKEN_EXPIRED', message: 'The sign-in has expired.', fix: 'Sign in again.' };
  }
  return state;
}

function canRefresh(info: SessionInfo): boolean {
  return info.refreshable;
}
