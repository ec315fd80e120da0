// Shared setup for the auth integration tests: the running sandbox, its CA, and the core's sign-in deps.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterIdentityCheck } from '../../../packages/core/src/index.js';
import { readSandbox } from '../../sandbox/client.mjs';

export interface SandboxInfo {
  apiServer: string;
  caFile: string;
  namespace: string;
  oidc: { issuer: string; clientId: string; caFile: string; tokenTtlSeconds: number };
}

export function sandbox() {
  const env = readSandbox() as SandboxInfo;
  const ca = readFileSync(env.caFile, 'utf8');
  const idpCa = readFileSync(env.oidc.caFile, 'utf8');
  return {
    env,
    ca,
    idp: { issuer: env.oidc.issuer, clientId: env.oidc.clientId, ca: idpCa },
    verifyIdentity: clusterIdentityCheck({ server: env.apiServer, ca }),
  };
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** The built core (for child processes, which cannot load TypeScript). */
export const builtCore = new URL('../../../packages/core/dist/index.js', import.meta.url).href;
