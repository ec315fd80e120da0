import { chmod, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Secret } from '../secret.js';

/**
 * The 0600 file behind RAY_AUTH_TOKEN_PATH, in a 0700 directory, rewritten atomically on refresh (a new file
 * renamed over the old, so a reader never sees half a token). Never ~/.ray/auth_token.
 */
export async function writeTokenFile(path: string, token: Secret): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await chmod(dirname(path), 0o700);
  const temp = `${path}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(temp, token.reveal() + '\n', { mode: 0o600, flag: 'wx' });
  await rename(temp, path);
}

export async function removeTokenFile(path: string): Promise<boolean> {
  try {
    await rm(path);
    return true;
  } catch {
    return false;
  }
}

/** A file name for one connection's token under `dir`. */
export function tokenFilePath(
  dir: string,
  ref: { clusterId: string; namespace: string; name: string },
): string {
  const safe = (s: string) => s.replace(/[^a-zA-Z0-9._-]+/g, '_');
  return join(dir, `${safe(ref.clusterId)}__${safe(ref.namespace)}__${safe(ref.name)}.token`);
}
