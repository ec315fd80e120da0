import type { Memento, SecretStorage } from 'vscode';
import { RayConnectError, Secret, type SecretBackendInfo, type SecretStore } from '@ray-connect/core';

/** The global-state key of the (non-secret) list of key names we stored, so keys(prefix) can enumerate them. */
export const SECRET_INDEX_KEY = 'rayConnect.secretKeys';
const TIMEOUT_MS = 20_000;

type Storage = Pick<SecretStorage, 'get' | 'store' | 'delete'>;
type State = Pick<Memento, 'get' | 'update'>;

/**
 * The core's SecretStore on VS Code SecretStorage (Electron safeStorage / OS keychain on desktop, encrypted browser
 * storage in code-server). SecretStorage cannot list keys, so we keep the key names (never values) in globalState.
 */
export class VsCodeSecretStore implements SecretStore {
  readonly info: SecretBackendInfo = { kind: 'vscode-secret-storage', label: 'VS Code secret storage' };
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly storage: Storage,
    private readonly state: State,
  ) {}

  private index(): string[] {
    const v = this.state.get<unknown>(SECRET_INDEX_KEY, []);
    return Array.isArray(v) ? v.filter((k): k is string => typeof k === 'string') : [];
  }

  /** Index updates are serialised so concurrent set/delete never lose a key name. */
  private serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async guard<T>(attempting: string, op: () => Thenable<T>): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      return await Promise.race([
        Promise.resolve(op()),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(
                new RayConnectError(
                  'KEYCHAIN_LOCKED',
                  `VS Code secret storage did not answer while ${attempting}.`,
                  { fix: 'Unlock your keychain and retry.' },
                ),
              ),
            TIMEOUT_MS,
          );
        }),
      ]);
    } catch (e) {
      if (e instanceof RayConnectError) throw e;
      throw new RayConnectError(
        'SECRET_STORE_FAILED',
        `VS Code secret storage failed while ${attempting}: ${e instanceof Error ? e.message : String(e)}`,
        { cause: e },
      );
    } finally {
      if (timer) clearTimeout(timer);
    }
  }

  async get(key: string): Promise<Secret | undefined> {
    const v = await this.guard(`reading ${key}`, () => this.storage.get(key));
    return v === undefined ? undefined : new Secret(v);
  }

  set(key: string, value: Secret): Promise<void> {
    return this.serial(async () => {
      await this.guard(`storing ${key}`, () => this.storage.store(key, value.reveal()));
      const keys = this.index();
      if (!keys.includes(key)) await this.state.update(SECRET_INDEX_KEY, [...keys, key]);
    });
  }

  delete(key: string): Promise<boolean> {
    return this.serial(async () => {
      const existed = (await this.guard(`reading ${key}`, () => this.storage.get(key))) !== undefined;
      await this.guard(`deleting ${key}`, () => this.storage.delete(key));
      const keys = this.index();
      if (keys.includes(key))
        await this.state.update(
          SECRET_INDEX_KEY,
          keys.filter((k) => k !== key),
        );
      return existed;
    });
  }

  async keys(prefix: string): Promise<string[]> {
    return this.index().filter((k) => k.startsWith(prefix));
  }
}
