import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { withFileLock } from '../auth/fileLock.js';
import { RayConnectError } from '../errors.js';
import type { SecretBackendInfo, SecretStore } from '../ports/SecretStore.js';
import { Secret } from '../secret.js';

/**
 * Secrets in one JSON file, readable by the user only (0600 file in a 0700 directory). An explicit opt-in
 * for machines without a keychain where memory-only is not enough; it says it is a file store.
 * Writes are atomic (temp file + rename) and serialised across processes with a lock file.
 */
export class FileSecretStore implements SecretStore {
  readonly info: SecretBackendInfo;

  constructor(private readonly path: string) {
    this.info = { kind: 'file', label: `file ${path} (plain text, readable by your user only)` };
  }

  async get(key: string): Promise<Secret | undefined> {
    const value = (await this.read())[key];
    return value === undefined ? undefined : new Secret(value);
  }

  async set(key: string, value: Secret): Promise<void> {
    await this.update((items) => {
      items[key] = value.reveal();
    });
  }

  async delete(key: string): Promise<boolean> {
    let existed = false;
    await this.update((items) => {
      existed = key in items;
      delete items[key];
    });
    return existed;
  }

  async keys(prefix: string): Promise<string[]> {
    return Object.keys(await this.read())
      .filter((k) => k.startsWith(prefix))
      .sort();
  }

  private async read(): Promise<Record<string, string>> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw this.failed('read', e);
    }
    try {
      const parsed = JSON.parse(text) as unknown;
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
        throw new Error('not a JSON object');
      return Object.fromEntries(
        Object.entries(parsed).filter((e): e is [string, string] => typeof e[1] === 'string'),
      );
    } catch (e) {
      throw new RayConnectError('SECRET_STORE_FAILED', `The secret file ${this.path} is not valid JSON.`, {
        fix: `Delete ${this.path} and sign in again.`,
        details: { file: this.path },
        cause: e,
      });
    }
  }

  private async update(change: (items: Record<string, string>) => void): Promise<void> {
    const dir = dirname(this.path);
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await chmod(dir, 0o700).catch(() => undefined);
      // The lock file lives beside the secret file: a full or read-only disk fails here first.
      await withFileLock(`${this.path}.lock`, async () => {
        const items = await this.read();
        change(items);
        const tmp = `${this.path}.${randomBytes(6).toString('hex')}.tmp`;
        try {
          await writeFile(tmp, JSON.stringify(items, null, 2), { mode: 0o600, flag: 'wx' });
          await rename(tmp, this.path);
        } catch (e) {
          await unlink(tmp).catch(() => undefined);
          throw e;
        }
      });
    } catch (e) {
      if (e instanceof RayConnectError) throw e;
      throw this.failed('write', e);
    }
  }

  private failed(what: 'read' | 'write', e: unknown): RayConnectError {
    const reason = e instanceof Error ? e.message : String(e);
    const dir = dirname(this.path);
    const code = (e as NodeJS.ErrnoException | undefined)?.code;
    const unchanged = what === 'write' ? ` The secrets already in ${this.path} are unchanged.` : '';
    const fix =
      code === 'ENOSPC' || code === 'EDQUOT'
        ? `Free some space on the disk holding ${dir} (df -h ${dir}), then try again.${unchanged}`
        : code === 'EROFS'
          ? `${dir} is on a read-only file system: remount it read-write or keep secrets elsewhere (the OS keychain or memory), then try again.${unchanged}`
          : code === 'EACCES' || code === 'EPERM'
            ? `Make ${dir} and ${this.path} owned and writable by your user (chmod 700 ${dir}; chmod 600 ${this.path}), then try again.${unchanged}`
            : `Check ${dir} (free space, permissions), then try again.${unchanged}`;
    return new RayConnectError(
      'SECRET_STORE_FAILED',
      `Could not ${what} the secret file ${this.path}: ${reason}`,
      {
        fix,
        details: { file: this.path, ...(code !== undefined && { errno: code }) },
        cause: e,
      },
    );
  }
}
