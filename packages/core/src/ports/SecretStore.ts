import type { Secret } from '../secret.js';

export type SecretBackendKind = 'os-keychain' | 'vscode-secret-storage' | 'memory' | 'file';

/** Where secrets live, said to the user ("OS keychain", "memory only: lost when ... stops"). */
export interface SecretBackendInfo {
  kind: SecretBackendKind;
  label: string;
  /** Set when a better backend was wanted but is not available (e.g. no Secret Service): say it to the user. */
  degradedReason?: string;
  /** Why the better backend is not used: KEYCHAIN_LOCKED (secrets may be in it, unreadable now) or KEYCHAIN_UNAVAILABLE. */
  degradedCode?: 'KEYCHAIN_LOCKED' | 'KEYCHAIN_UNAVAILABLE';
}

/**
 * Secret storage as a repository. Keys are namespaced by the caller (`cluster/<id>/...`).
 * Implementations never hang: a locked or absent keychain is reported as KEYCHAIN_LOCKED / KEYCHAIN_UNAVAILABLE.
 */
export interface SecretStore {
  readonly info: SecretBackendInfo;
  get(key: string): Promise<Secret | undefined>;
  set(key: string, value: Secret): Promise<void>;
  delete(key: string): Promise<boolean>;
  /** Keys under a prefix, so sign-out can remove every item of a cluster and say what it removed. */
  keys(prefix: string): Promise<string[]>;
}

export class MemorySecretStore implements SecretStore {
  readonly info: SecretBackendInfo;
  private readonly items = new Map<string, Secret>();
  constructor(info: Partial<SecretBackendInfo> = {}) {
    this.info = { kind: 'memory', label: 'memory only', ...info };
  }
  async get(key: string): Promise<Secret | undefined> {
    return this.items.get(key);
  }
  async set(key: string, value: Secret): Promise<void> {
    this.items.set(key, value);
  }
  async delete(key: string): Promise<boolean> {
    return this.items.delete(key);
  }
  async keys(prefix: string): Promise<string[]> {
    return [...this.items.keys()].filter((k) => k.startsWith(prefix));
  }
}
