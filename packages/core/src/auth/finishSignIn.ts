import { wrapError } from '../errors.js';
import type { CredentialSource } from '../kube/credential.js';
import { systemClock } from '../ports/Clock.js';
import type { KubeIdentity } from '../ports/KubeClient.js';
import type { Secret } from '../secret.js';
import type { SignInDeps } from './deps.js';
import { readJwtClaims, readJwtTimes } from './jwt.js';
import type { Session, SessionInfo } from './session.js';
import { SessionStore } from './sessionStore.js';

export interface NewSession {
  info: Omit<SessionInfo, 'signedInAt' | 'refreshable' | 'identity' | 'expiresAt' | 'issuedAt'> & {
    expiresAt?: number;
  };
  token: Secret;
  refreshToken?: Secret;
  clientSecret?: Secret;
}

/** Last step of every sign-in: learn who the token is (SelfSubjectReview), then save the session. */
export async function finishSignIn(
  input: NewSession,
  deps: SignInDeps,
  signal?: AbortSignal,
): Promise<Session> {
  const now = (deps.clock ?? systemClock).now();
  const times = readJwtTimes(input.token.reveal());
  const expiresAt = times.expiresAt ?? input.info.expiresAt;
  let identity: KubeIdentity | undefined;
  if (deps.verifyIdentity !== undefined) {
    try {
      identity = await deps.verifyIdentity(
        staticCredentialSource(input.token, expiresAt, `${input.info.method} sign-in`),
        signal,
      );
    } catch (e) {
      throw wrapError(e, 'Checking the new sign-in with the API server');
    }
  } else {
    identity = identityFromClaims(input.token);
  }
  const info: SessionInfo = { ...input.info, signedInAt: now, refreshable: input.refreshToken !== undefined };
  if (identity !== undefined) info.identity = identity;
  if (expiresAt !== undefined) info.expiresAt = expiresAt;
  if (times.issuedAt !== undefined) info.issuedAt = times.issuedAt;
  const session: Session = { info, token: input.token };
  if (input.refreshToken !== undefined) session.refreshToken = input.refreshToken;
  if (input.clientSecret !== undefined) session.clientSecret = input.clientSecret;
  await new SessionStore(deps.store).save(session);
  deps.logger?.info('Signed in', {
    clusterId: info.clusterId,
    method: info.method,
    username: identity?.username,
    expiresAt,
  });
  return session;
}

/** A CredentialSource that always presents one token (a pasted token, a just-issued one being checked). */
export function staticCredentialSource(
  token: Secret,
  expiresAt: number | undefined,
  description: string,
): CredentialSource {
  return {
    description,
    get: async () => (expiresAt === undefined ? { token } : { token, expiresAt }),
  };
}

function identityFromClaims(token: Secret): KubeIdentity | undefined {
  const claims = readJwtClaims(token.reveal());
  const name = claims?.['email'] ?? claims?.['preferred_username'] ?? claims?.['sub'];
  if (typeof name !== 'string') return undefined;
  const groups = Array.isArray(claims?.['groups'])
    ? (claims['groups'] as unknown[]).filter((g): g is string => typeof g === 'string')
    : [];
  return { username: name, groups };
}
