// Shared setup for the auth integration tests: the running sandbox, its CA, and the core's sign-in deps.
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
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

const execFileAsync = promisify(execFile);

const has = (cmd: string): boolean => {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

/** Command -> apt package, for a real Secret Service under a private D-Bus session (and a display for the prompt). */
const KEYCHAIN_TOOLS: Record<string, string> = {
  'gnome-keyring-daemon': 'gnome-keyring',
  'dbus-daemon': 'dbus',
  'dbus-run-session': 'dbus',
  'dbus-send': 'dbus',
  'dbus-update-activation-environment': 'dbus',
  'secret-tool': 'libsecret-tools',
  Xvfb: 'xvfb',
};

/**
 * Installs what the keychain tests need with apt when missing. Returns a reason to skip when it cannot
 * (no apt-get), undefined when everything is there.
 */
export async function ensureKeychainTools(): Promise<string | undefined> {
  const missing = [
    ...new Set(
      Object.entries(KEYCHAIN_TOOLS)
        .filter(([cmd]) => !has(cmd))
        .map(([, pkg]) => pkg),
    ),
  ];
  if (missing.length === 0) return undefined;
  if (!has('apt-get')) return `needs ${missing.join(', ')} and there is no apt-get to install them`;
  // Not execFileSync: a cold apt-get blocks the vitest worker long enough to miss vitest's RPC (fails the tier).
  const apt = (args: string[]) =>
    execFileAsync('apt-get', args, {
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      timeout: 280_000,
    });
  try {
    await apt(['install', '-y', ...missing, 'dbus-x11']);
  } catch {
    await apt(['update']);
    await apt(['install', '-y', ...missing, 'dbus-x11']);
  }
  return undefined;
}
