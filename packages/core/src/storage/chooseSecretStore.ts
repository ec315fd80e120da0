import { homedir } from 'node:os';
import { StorageWords } from '@ray-connect/shared';
import { isRayConnectError } from '../errors.js';
import type { Logger } from '../ports/Logger.js';
import { silentLogger } from '../ports/Logger.js';
import type { SecretStore } from '../ports/SecretStore.js';
import { MemorySecretStore } from '../ports/SecretStore.js';
import { FileSecretStore } from './fileSecretStore.js';
import type { KeyringSecretStoreOptions } from './keyringSecretStore.js';
import { KeyringSecretStore } from './keyringSecretStore.js';

export interface ChooseSecretStoreOptions {
  /** `os-keychain` (default): the keychain if usable, else memory (said in `info.degradedReason`). `file` needs `filePath`. */
  prefer?: 'os-keychain' | 'file' | 'memory';
  /** Path of the opted-in file store. */
  filePath?: string;
  /** Who holds memory-only secrets, for the message: "the agent", "VS Code". Default "Ray Connect". */
  holder?: string;
  keyring?: KeyringSecretStoreOptions;
  logger?: Logger;
}

/** Picks where secrets live and says so: OS keychain if it works now, else memory with a reason for the user. */
export async function chooseSecretStore(options: ChooseSecretStoreOptions = {}): Promise<SecretStore> {
  const logger = options.logger ?? silentLogger;
  const prefer = options.prefer ?? 'os-keychain';
  if (prefer === 'file') {
    if (options.filePath === undefined)
      throw new TypeError('chooseSecretStore: prefer "file" needs filePath');
    return new FileSecretStore(options.filePath);
  }
  if (prefer === 'memory') return new MemorySecretStore();
  const holder = options.holder ?? 'Ray Connect';
  const keyring = new KeyringSecretStore({ ...options.keyring, logger });
  try {
    await keyring.probe();
    logger.info('Secrets are kept in the OS keychain', { label: keyring.info.label });
    return keyring;
  } catch (e) {
    if (!isRayConnectError(e)) throw e;
    const why =
      e.code === 'KEYCHAIN_LOCKED'
        ? 'The OS keychain is locked.'
        : 'No OS keychain here (no Secret Service).';
    const degradedReason = StorageWords.memoryReason(
      why,
      holder,
      options.filePath && tildePath(options.filePath),
    );
    logger.warn('Secrets are kept in memory only', { code: e.code, reason: e.message });
    return new MemorySecretStore({
      label: StorageWords.memoryLabel(holder),
      degradedReason,
      degradedCode: e.code === 'KEYCHAIN_LOCKED' ? 'KEYCHAIN_LOCKED' : 'KEYCHAIN_UNAVAILABLE',
    });
  }
}

/** `~/.config/ray-connect/secrets.json` rather than the full home path, for messages. */
export function tildePath(path: string, home = homedir()): string {
  return home && path.startsWith(home + '/') ? `~${path.slice(home.length)}` : path;
}
