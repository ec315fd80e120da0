import { RayConnectError } from '../errors.js';
import type { Clock } from '../ports/Clock.js';
import { systemClock } from '../ports/Clock.js';
import { Secret } from '../secret.js';
import type { Credential, CredentialSource } from './credential.js';
import type { ReadTextFile } from './readTextFile.js';

/** PEM from a file or inline (base64, kubeconfig `*-data`; a Secret for the key). */
export type PemInput = { file: string } | { data: string | Secret };

export interface ClientCertSourceOptions {
  cert: PemInput;
  key: PemInput;
  readFile: ReadTextFile;
  clock?: Clock;
  /** Files are re-read after this (certificates may be rotated in place). Default 60 s. */
  cacheMs?: number;
}

/** A client certificate and key (kubeconfig `client-certificate(-data)` / `client-key(-data)`). */
export function clientCertSource(options: ClientCertSourceOptions): CredentialSource {
  const clock = options.clock ?? systemClock;
  const cacheMs = options.cacheMs ?? 60_000;
  let cached: { credential: Credential; readAt: number } | undefined;
  const load = async (input: PemInput, what: string): Promise<string> => {
    if ('data' in input)
      return Buffer.from(
        typeof input.data === 'string' ? input.data : input.data.reveal(),
        'base64',
      ).toString('utf8');
    try {
      return await options.readFile(input.file);
    } catch (e) {
      throw new RayConnectError(
        'KUBECONFIG_INVALID',
        `Cannot read the client ${what} file ${input.file} (${(e as { code?: string }).code ?? 'read failed'}).`,
        {
          fix: `Check that ${input.file} exists and is readable.`,
          details: { file: input.file },
          cause: e,
        },
      );
    }
  };
  return {
    description: 'client certificate',
    async get() {
      if (cached && clock.now() - cached.readAt < cacheMs) return cached.credential;
      const cert = await load(options.cert, 'certificate');
      const key = await load(options.key, 'key');
      if (!cert.includes('-----BEGIN')) throw badPem('certificate');
      if (!key.includes('-----BEGIN')) throw badPem('key');
      const credential: Credential = { clientCert: { cert, key: new Secret(key) } };
      cached = { credential, readAt: clock.now() };
      return credential;
    },
    invalidate() {
      cached = undefined;
    },
  };
}

function badPem(what: string): RayConnectError {
  return new RayConnectError('KUBECONFIG_INVALID', `The client ${what} is not PEM (no -----BEGIN line).`, {
    fix: `Check client-${what === 'key' ? 'key' : 'certificate'}(-data) in your kubeconfig.`,
    details: { field: what },
  });
}
