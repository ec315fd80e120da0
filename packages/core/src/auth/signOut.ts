import { wrapError } from '../errors.js';
import type { SecretStore } from '../ports/SecretStore.js';
import { clusterPrefix, describeKey } from '../storage/keys.js';
import { withFileLock } from './fileLock.js';
import { refreshLockPath } from './refreshSession.js';
import { SessionStore } from './sessionStore.js';

export interface SignOutResult {
  /** What was removed, in words: "refresh token (OS keychain (Secret Service))". */
  removed: string[];
}

/**
 * Removes every stored item of a cluster (`ray-connect/<cluster>/...`) and says what it removed.
 * With `configDir`, it holds the refresh lock meanwhile, so a refresh in another process cannot save the session back.
 */
export async function signOut(
  clusterId: string,
  deps: { store: SecretStore; configDir?: string },
): Promise<SignOutResult> {
  const where = deps.store.info.label;
  const remove = async (): Promise<SignOutResult> => {
    const keys = await deps.store.keys(clusterPrefix(clusterId));
    const deleted = await Promise.all(keys.map((key) => deps.store.delete(key)));
    return { removed: keys.filter((_, i) => deleted[i]).map((key) => `${describeKey(key)} (${where})`) };
  };
  try {
    return deps.configDir === undefined
      ? await remove()
      : await withFileLock(refreshLockPath(deps.configDir, clusterId), remove);
  } catch (e) {
    throw wrapError(e, `Signing out of ${clusterId}`, 'SECRET_STORE_FAILED');
  } finally {
    SessionStore.changed(clusterId);
  }
}
