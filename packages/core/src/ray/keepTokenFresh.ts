import type { Clock } from '../ports/Clock.js';
import type { KubeClient } from '../ports/KubeClient.js';
import type { Logger } from '../ports/Logger.js';
import type { RayToken } from './getRayToken.js';

/** Refresh this long before expiry. */
const AHEAD_MS = 2 * 60_000;
/** Never poll faster than this, whatever the expiry says. */
const MIN_WAIT_MS = 15_000;

/**
 * RBAC mode: the Ray token is the user's Kubernetes token, which expires. Ask the KubeClient for the current one
 * shortly before expiry (it refreshes), and report a changed token. Runs until the signal aborts.
 */
export async function keepTokenFresh(
  first: RayToken,
  deps: { kube: KubeClient; clock: Clock; logger: Logger; onToken(token: RayToken): Promise<void> | void },
  signal: AbortSignal,
): Promise<void> {
  let current = first;
  while (!signal.aborted && current.expiresAt !== undefined) {
    const wait = Math.max(MIN_WAIT_MS, current.expiresAt - AHEAD_MS - deps.clock.now());
    try {
      await deps.clock.sleep(wait, signal);
    } catch {
      return;
    }
    try {
      const next = await deps.kube.bearerToken();
      if (signal.aborted) return;
      if (next === undefined) continue;
      const token: RayToken =
        next.expiresAt === undefined
          ? { token: next.token }
          : { token: next.token, expiresAt: next.expiresAt };
      if (!next.token.equals(current.token) || next.expiresAt !== current.expiresAt) {
        current = token;
        await deps.onToken(token);
        deps.logger.info('Ray token refreshed', { expiresAt: token.expiresAt });
      }
    } catch (e) {
      deps.logger.warn('Ray token refresh failed; will retry', {
        reason: e instanceof Error ? e.message : String(e),
      });
    }
  }
}
