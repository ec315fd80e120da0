import { createHash } from 'node:crypto';
import { join } from 'node:path';
import * as oidc from 'openid-client';
import { RayConnectError } from '../errors.js';
import type { Clock } from '../ports/Clock.js';
import { systemClock } from '../ports/Clock.js';
import type { Logger } from '../ports/Logger.js';
import { silentLogger } from '../ports/Logger.js';
import type { SecretStore } from '../ports/SecretStore.js';
import { Secret } from '../secret.js';
import type { FileLockOptions } from './fileLock.js';
import { withFileLock } from './fileLock.js';
import { discoverIdp } from './idp.js';
import { mapIdpError } from './idpErrors.js';
import { readJwtTimes } from './jwt.js';
import type { Session, SessionInfo } from './session.js';
import { SessionStore } from './sessionStore.js';

export interface RefreshDeps {
  store: SecretStore;
  /** Holds `locks/` (cross-process refresh locks). */
  configDir: string;
  clock?: Clock;
  logger?: Logger;
  /** Replaces the HTTP client to the identity provider (tests). */
  fetch?: oidc.CustomFetch;
  lock?: FileLockOptions;
}

/** Refresh this long before expiry: 10% of the token's lifetime, at most 60 s (60 s when the lifetime is unknown). */
export function refreshMarginMs(info: Pick<SessionInfo, 'expiresAt' | 'issuedAt'>): number {
  if (info.expiresAt === undefined || info.issuedAt === undefined) return 60_000;
  return Math.min(60_000, Math.max(0, (info.expiresAt - info.issuedAt) / 10));
}

/** True when the token is close to expiry (or was just rejected by the API server). */
export function needsRefresh(session: Session, now: number, rejected?: Secret): boolean {
  if (rejected !== undefined && session.token.equals(rejected)) return true;
  const { expiresAt } = session.info;
  return expiresAt !== undefined && now >= expiresAt - refreshMarginMs(session.info);
}

export function refreshLockPath(configDir: string, clusterId: string): string {
  const id = createHash('sha256').update(clusterId).digest('hex').slice(0, 24);
  return join(configDir, 'locks', `refresh-${id}.lock`);
}

/**
 * Refreshes a cluster's OIDC session: under a cross-process file lock, re-reads the store (another process
 * may have refreshed already), redeems the refresh token, and stores the new tokens before the lock is
 * released (refresh tokens rotate; reusing an old one revokes the grant). A rejected grant ends the session
 * in one state (REFRESH_FAILED, "sign in again") and is not retried. Never opens a browser.
 */
export async function refreshSession(
  clusterId: string,
  deps: RefreshDeps,
  options: { rejected?: Secret } = {},
): Promise<Session> {
  const clock = deps.clock ?? systemClock;
  const logger = deps.logger ?? silentLogger;
  const sessions = new SessionStore(deps.store);
  return withFileLock(
    refreshLockPath(deps.configDir, clusterId),
    async () => {
      const current = await sessions.load(clusterId);
      if (current === undefined) throw signedOut(clusterId);
      const now = clock.now();
      if (!needsRefresh(current, now, options.rejected)) return current;
      const expired = current.info.expiresAt !== undefined && now >= current.info.expiresAt;
      if (
        current.info.failure !== undefined ||
        current.refreshToken === undefined ||
        current.info.issuer === undefined ||
        current.info.clientId === undefined
      ) {
        if (!expired && options.rejected === undefined) return current;
        throw ended(current.info, expired);
      }
      let tokens: oidc.TokenEndpointResponse;
      try {
        const config = await discoverIdp({
          issuer: current.info.issuer,
          clientId: current.info.clientId,
          ...(current.clientSecret !== undefined ? { clientSecret: current.clientSecret } : {}),
          ...(current.info.idpCa !== undefined ? { ca: current.info.idpCa } : {}),
          ...(current.info.insecureSkipTlsVerify ? { insecureSkipTlsVerify: true } : {}),
          ...(current.info.allowInsecureRequests ? { allowInsecureRequests: true } : {}),
          ...(deps.fetch !== undefined ? { fetch: deps.fetch } : {}),
        });
        tokens = await oidc.refreshTokenGrant(config, current.refreshToken.reveal());
      } catch (e) {
        const error = mapIdpError(e, current.info.issuer, 'Refreshing the sign-in');
        if (isPermanent(e, error)) {
          const failure = { code: 'REFRESH_FAILED' as const, message: `${error.message} Sign in again.` };
          const info = { ...current.info, failure, refreshable: false };
          await sessions.forgetRefreshToken(info);
          logger.warn('The sign-in can no longer be refreshed', { clusterId, code: error.code });
          // The current token still works until it expires; after that, REFRESH_FAILED without asking again.
          if (!expired && options.rejected === undefined) return { info, token: current.token };
          throw new RayConnectError('REFRESH_FAILED', failure.message, {
            fix: 'Sign in again.',
            details: error.details,
            cause: error,
          });
        }
        // Unreachable or failing provider: keep the session; the current token is still good until it expires.
        if (!expired && options.rejected === undefined) {
          logger.warn('Could not refresh the sign-in yet; using the current token until it expires', {
            clusterId,
            code: error.code,
          });
          return current;
        }
        throw error;
      }
      if (tokens.id_token === undefined) {
        throw new RayConnectError(
          'REFRESH_FAILED',
          `${current.info.issuer} returned no id_token on refresh.`,
          { fix: 'Sign in again.' },
        );
      }
      const token = new Secret(tokens.id_token);
      const times = readJwtTimes(tokens.id_token);
      const info: SessionInfo = { ...current.info, refreshedAt: now };
      delete info.expiresAt;
      delete info.issuedAt;
      if (times.expiresAt !== undefined) info.expiresAt = times.expiresAt;
      if (times.issuedAt !== undefined) info.issuedAt = times.issuedAt;
      const next: Session = {
        info,
        token,
        refreshToken:
          tokens.refresh_token !== undefined ? new Secret(tokens.refresh_token) : current.refreshToken,
      };
      if (current.clientSecret !== undefined) next.clientSecret = current.clientSecret;
      await sessions.save(next);
      logger.info('Refreshed the sign-in', {
        clusterId,
        expiresAt: info.expiresAt,
        rotated: tokens.refresh_token !== undefined,
      });
      return next;
    },
    deps.lock,
  );
}

/** OAuth answers that will not change on retry: the grant or the client is gone. Anything else is retried later. */
const PERMANENT = new Set([
  'invalid_grant',
  'invalid_client',
  'unauthorized_client',
  'invalid_scope',
  'unsupported_grant_type',
]);

function isPermanent(raw: unknown, mapped: RayConnectError): boolean {
  return (
    mapped.code === 'REFRESH_FAILED' || (raw instanceof oidc.ResponseBodyError && PERMANENT.has(raw.error))
  );
}

function signedOut(clusterId: string): RayConnectError {
  return new RayConnectError('SIGNED_OUT', `Not signed in to ${clusterId}.`, { fix: 'Sign in.' });
}

function ended(info: SessionInfo, expired: boolean): RayConnectError {
  if (info.failure !== undefined)
    return new RayConnectError(info.failure.code, info.failure.message, { fix: 'Sign in again.' });
  if (!expired) {
    return new RayConnectError('TOKEN_INVALID', 'The API server no longer accepts the stored token.', {
      fix: 'Sign in again (for a pasted token: create a new one).',
    });
  }
  return new RayConnectError('TOKEN_EXPIRED', 'The sign-in has expired.', { fix: 'Sign in again.' });
}
