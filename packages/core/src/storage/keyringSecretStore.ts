import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { RayConnectError } from '../errors.js';
import type { Logger } from '../ports/Logger.js';
import { silentLogger } from '../ports/Logger.js';
import type { SecretBackendInfo, SecretStore } from '../ports/SecretStore.js';
import { Secret } from '../secret.js';
import { isDefaultCollectionLocked, sessionBusAddress } from './dbus.js';
import { KEYRING_WORKER_SOURCE } from './keyringWorker.js';

export interface KeyringSecretStoreOptions {
  /** Service name of every entry (the key is the account). Default `ray-connect`. */
  service?: string;
  /** How long one keychain call may take before we give up and report the keychain as locked. Default 8 s. */
  timeoutMs?: number;
  /** Environment of the keychain child (D-Bus address). Default: this process's. */
  env?: NodeJS.ProcessEnv;
  /** Node binary for the child. Default: this process's (with ELECTRON_RUN_AS_NODE for Electron hosts). */
  nodePath?: string;
  /** Where @napi-rs/keyring is. Default: resolved from this module (a bundle may ship without it: then unavailable). */
  modulePath?: string;
  logger?: Logger;
}

type WorkerRequest = { op: 'get' | 'set' | 'delete' | 'list' | 'probe'; account?: string; value?: string };
type WorkerAnswer = {
  ok: boolean;
  value?: string | null;
  deleted?: boolean;
  accounts?: string[];
  message?: string;
};

const LINUX_LABEL = 'OS keychain (Secret Service)';

/**
 * Secrets in the OS keychain through @napi-rs/keyring, pinned to Secret Service on Linux.
 * Every call runs in a short-lived child process with a timeout, so a locked keyring never hangs us:
 * no D-Bus session -> KEYCHAIN_UNAVAILABLE at once; locked default collection -> KEYCHAIN_LOCKED at once
 * (when dbus-send can tell) or after the timeout.
 */
export class KeyringSecretStore implements SecretStore {
  readonly info: SecretBackendInfo;
  private readonly service: string;
  private readonly timeoutMs: number;
  private readonly env: NodeJS.ProcessEnv;
  private readonly nodePath: string;
  private readonly logger: Logger;
  private modulePath: string | undefined;
  private readonly queue: {
    request: WorkerRequest;
    resolve: (a: WorkerAnswer) => void;
    reject: (e: unknown) => void;
  }[] = [];

  constructor(options: KeyringSecretStoreOptions = {}) {
    this.service = options.service ?? 'ray-connect';
    this.timeoutMs = options.timeoutMs ?? 8000;
    this.env = options.env ?? process.env;
    this.nodePath = options.nodePath ?? process.execPath;
    this.logger = options.logger ?? silentLogger;
    this.modulePath = options.modulePath;
    this.info = { kind: 'os-keychain', label: process.platform === 'linux' ? LINUX_LABEL : 'OS keychain' };
  }

  /** Checks that the keychain can store and delete an item now. Throws KEYCHAIN_UNAVAILABLE / KEYCHAIN_LOCKED. */
  async probe(): Promise<void> {
    await this.call({ op: 'probe', account: 'ray-connect/.probe' });
  }

  async get(key: string): Promise<Secret | undefined> {
    const answer = await this.call({ op: 'get', account: key });
    return typeof answer.value === 'string' ? new Secret(answer.value) : undefined;
  }

  async set(key: string, value: Secret): Promise<void> {
    await this.call({ op: 'set', account: key, value: value.reveal() });
  }

  async delete(key: string): Promise<boolean> {
    return (await this.call({ op: 'delete', account: key })).deleted === true;
  }

  async keys(prefix: string): Promise<string[]> {
    const accounts = (await this.call({ op: 'list' })).accounts ?? [];
    return [...new Set(accounts)].filter((a) => a.startsWith(prefix)).sort();
  }

  /** Queues one operation; the operations started in the same tick run in one child, in order. */
  private async call(request: WorkerRequest): Promise<WorkerAnswer> {
    const answer = await new Promise<WorkerAnswer>((resolve, reject) => {
      this.queue.push({ request, resolve, reject });
      if (this.queue.length === 1) setImmediate(() => void this.flush());
    });
    if (!answer.ok) throw mapKeyringMessage(answer.message ?? 'unknown failure');
    return answer;
  }

  private async flush(): Promise<void> {
    const batch = this.queue.splice(0);
    try {
      if (process.platform === 'linux') {
        if (sessionBusAddress(this.env) === undefined) throw unavailable('there is no D-Bus session bus');
        if ((await isDefaultCollectionLocked(this.env)) === true) throw locked();
      }
      const answers = await this.runWorker(
        batch.map((b) => b.request),
        this.keyringModule(),
      );
      batch.forEach((b, i) =>
        b.resolve(answers[i] ?? { ok: false, message: 'no answer from the keychain helper' }),
      );
    } catch (e) {
      for (const b of batch) b.reject(e);
    }
  }

  private keyringModule(): string {
    try {
      this.modulePath ??= createRequire(import.meta.url).resolve('@napi-rs/keyring');
      return this.modulePath;
    } catch {
      throw unavailable('the keychain module @napi-rs/keyring is not installed with Ray Connect');
    }
  }

  private runWorker(ops: WorkerRequest[], modulePath: string): Promise<WorkerAnswer[]> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.nodePath, ['-e', KEYRING_WORKER_SOURCE], {
        env: { ...this.env, ELECTRON_RUN_AS_NODE: '1' },
        stdio: ['pipe', 'pipe', 'ignore'],
      });
      let out = '';
      let settled = false;
      const finish = (f: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        f();
      };
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        this.logger.warn('The OS keychain did not answer in time; treating it as locked', {
          timeoutMs: this.timeoutMs,
          ops: ops.map((o) => o.op).join(','),
        });
        finish(() => reject(locked(`it did not answer within ${Math.round(this.timeoutMs / 1000)} s`)));
      }, this.timeoutMs);
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (d: string) => (out += d));
      child.on('error', (e) =>
        finish(() =>
          reject(
            new RayConnectError('KEYCHAIN_UNAVAILABLE', `Could not start the keychain helper: ${e.message}`, {
              cause: e,
            }),
          ),
        ),
      );
      child.on('close', () =>
        finish(() => {
          try {
            resolve((JSON.parse(out) as { answers: WorkerAnswer[] }).answers);
          } catch {
            reject(
              new RayConnectError('KEYCHAIN_UNAVAILABLE', 'The keychain helper ended without an answer.'),
            );
          }
        }),
      );
      child.stdin.on('error', () => undefined);
      child.stdin.end(JSON.stringify({ ops, service: this.service, modulePath }));
    });
  }
}

function unavailable(why: string): RayConnectError {
  return new RayConnectError('KEYCHAIN_UNAVAILABLE', `No OS keychain here: ${why}.`, {
    fix: 'Run inside a desktop session with a Secret Service (GNOME Keyring, KWallet), or accept memory-only storage.',
  });
}

function locked(why = 'its default collection is locked'): RayConnectError {
  return new RayConnectError('KEYCHAIN_LOCKED', `The OS keychain is locked: ${why}.`, {
    fix: 'Unlock your keyring (log in to the desktop, or open Passwords and Keys and unlock "Login"), then try again.',
  });
}

/** Maps a @napi-rs/keyring error message to our codes. The messages never hold the secret. */
export function mapKeyringMessage(message: string): RayConnectError {
  if (/cannot find module|dlopen|invalid elf|glibc|not a valid win32/i.test(message)) {
    return unavailable(`the keychain module cannot be loaded here (${message.split('\n')[0]})`);
  }
  if (/lock|prompt|dismiss/i.test(message)) return locked(message);
  if (
    /d-?bus|secret ?service|no storage access|platform|not (be )?provided|serviceunknown|org\.freedesktop/i.test(
      message,
    )
  ) {
    return unavailable(message);
  }
  return new RayConnectError('SECRET_STORE_FAILED', `The OS keychain failed: ${message}`);
}
