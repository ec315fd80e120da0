import { RayConnectError } from '../errors.js';
import { systemClock } from '../ports/Clock.js';
import { Secret } from '../secret.js';
import type { SignInDeps } from './deps.js';
import { finishSignIn } from './finishSignIn.js';
import { readJwtTimes } from './jwt.js';
import type { Session } from './session.js';

export interface TokenSignInInput {
  clusterId: string;
  /** A bearer token the user pasted: `oc whoami -t`, `kubectl create token`, a cloud token. */
  token: Secret;
  /** `openshift` when it came from the OpenShift "display token" page. Default `token`. */
  method?: 'token' | 'openshift';
  issuer?: string;
}

/**
 * Signs in with a pasted bearer token, checked at once with a SelfSubjectReview (deps.verifyIdentity),
 * so the user sees who they are. A JWT's `exp` is read (not verified) only to show and honour expiry.
 */
export async function signInWithToken(input: TokenSignInInput, deps: SignInDeps): Promise<Session> {
  if (deps.verifyIdentity === undefined) throw new TypeError('signInWithToken needs deps.verifyIdentity');
  const now = (deps.clock ?? systemClock).now();
  const value = input.token.reveal().trim();
  if (value === '' || /\s/.test(value)) {
    throw new RayConnectError(
      'TOKEN_INVALID',
      'That is not a bearer token (it is empty or has spaces in it).',
      {
        fix: 'Paste only the token, e.g. the output of `oc whoami -t` or `kubectl create token <serviceaccount>`.',
      },
    );
  }
  const token = value === input.token.reveal() ? input.token : new Secret(value);
  const { expiresAt } = readJwtTimes(value);
  if (expiresAt !== undefined && expiresAt <= now) {
    throw new RayConnectError(
      'TOKEN_EXPIRED',
      `That token expired at ${new Date(expiresAt).toISOString()}.`,
      { fix: 'Create a new token and paste it.' },
    );
  }
  return finishSignIn(
    {
      info: {
        clusterId: input.clusterId,
        method: input.method ?? 'token',
        ...(input.issuer !== undefined ? { issuer: input.issuer } : {}),
      },
      token,
    },
    deps,
  );
}
