import { RayConnectError } from '../errors.js';
import type { Credential, CredentialSource } from '../kube/credential.js';
import { systemClock } from '../ports/Clock.js';
import type { Secret } from '../secret.js';
import type { RefreshDeps } from './refreshSession.js';
import { needsRefresh, refreshSession } from './refreshSession.js';
import type { Session } from './session.js';
import { SessionStore, sessionGeneration } from './sessionStore.js';

const inFlight = new Map<string, Promise<Session>>();

/**
 * The CredentialSource of a signed-in cluster: the stored token, refreshed before expiry (with a margin)
 * under the cross-process lock. Concurrent callers in this process share one refresh. After a failed
 * refresh it throws the same REFRESH_FAILED / TOKEN_EXPIRED every time ("sign in again") without retrying.
 */
export function sessionCredentialSource(clusterId: string, deps: RefreshDeps): CredentialSource {
  const clock = deps.clock ?? systemClock;
  const sessions = new SessionStore(deps.store);
  let cached: { session: Session; generation: number } | undefined;
  let rejected: Secret | undefined;

  const refresh = (): Promise<Session> => {
    const key = `${deps.configDir}\0${clusterId}`;
    let p = inFlight.get(key);
    if (p === undefined) {
      const options = rejected !== undefined ? { rejected } : {};
      p = refreshSession(clusterId, deps, options).finally(() => inFlight.delete(key));
      inFlight.set(key, p);
    }
    return p;
  };

  return {
    description: `signed-in session (${clusterId})`,
    async get(signal?: AbortSignal): Promise<Credential> {
      if (signal?.aborted) throw signal.reason;
      if (cached === undefined || cached.generation !== sessionGeneration(clusterId)) {
        const generation = sessionGeneration(clusterId);
        const loaded = await sessions.load(clusterId);
        if (loaded === undefined)
          throw new RayConnectError('SIGNED_OUT', `Not signed in to ${clusterId}.`, { fix: 'Sign in.' });
        cached = { session: loaded, generation };
      }
      let session = cached.session;
      if (needsRefresh(session, clock.now(), rejected)) {
        session = await refresh();
        rejected = undefined;
        cached = { session, generation: sessionGeneration(clusterId) };
      }
      const { expiresAt } = session.info;
      if (expiresAt !== undefined && clock.now() >= expiresAt) {
        const failure = session.info.failure;
        throw new RayConnectError(
          failure?.code ?? 'TOKEN_EXPIRED',
          failure?.message ?? 'The sign-in has expired.',
          { fix: 'Sign in again.' },
        );
      }
      return expiresAt === undefined ? { token: session.token } : { token: session.token, expiresAt };
    },
    invalidate(): void {
      if (cached !== undefined) rejected = cached.session.token;
      cached = undefined;
    },
  };
}
