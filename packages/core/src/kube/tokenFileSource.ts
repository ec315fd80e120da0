import { RayConnectError } from '../errors.js';
import type { Clock } from '../ports/Clock.js';
import { systemClock } from '../ports/Clock.js';
import { Secret } from '../secret.js';
import type { Credential, CredentialSource } from './credential.js';
import { jwtExpiry } from './jwtExpiry.js';
import type { ReadTextFile } from './readTextFile.js';

export interface TokenFileSourceOptions {
  path: string;
  readFile: ReadTextFile;
  clock?: Clock;
  /** How long a read is reused. The file is re-read after this (tokens are rotated in place). Default 5 s. */
  cacheMs?: number;
  description?: string;
}

/** A bearer token read from a file (kubeconfig `tokenFile`/`token-file`, a service account), re-read as it rotates. */
export function tokenFileSource(options: TokenFileSourceOptions): CredentialSource {
  const clock = options.clock ?? systemClock;
  const cacheMs = options.cacheMs ?? 5_000;
  let cached: { credential: Credential; readAt: number } | undefined;
  return {
    description: options.description ?? `token file ${options.path}`,
    async get() {
      if (cached && clock.now() - cached.readAt < cacheMs) return cached.credential;
      let text: string;
      try {
        text = await options.readFile(options.path);
      } catch (e) {
        throw new RayConnectError(
          'TOKEN_INVALID',
          `Cannot read the token file ${options.path} (${(e as { code?: string }).code ?? 'read failed'}).`,
          {
            fix: `Check that ${options.path} exists and is readable, or sign in again.`,
            details: { file: options.path },
            cause: e,
          },
        );
      }
      const value = text.replace(/[\r\n\s]+$/, '').replace(/^\s+/, '');
      if (value === '') {
        throw new RayConnectError('TOKEN_INVALID', `The token file ${options.path} is empty.`, {
          fix: `Put a token in ${options.path}, or sign in again.`,
          details: { file: options.path },
        });
      }
      const token = new Secret(value);
      const expiresAt = jwtExpiry(value);
      const credential: Credential = expiresAt === undefined ? { token } : { token, expiresAt };
      cached = { credential, readAt: clock.now() };
      return credential;
    },
    invalidate() {
      cached = undefined;
    },
  };
}
