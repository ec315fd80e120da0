import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { RayConnectError } from '../errors.js';

export interface FileLockOptions {
  /** Give up waiting after this long. Default 60 s. */
  timeoutMs?: number;
  /** A lock older than this whose owner cannot be checked is taken over. Default 120 s. */
  staleMs?: number;
  /** How often to look again while another process holds the lock. Default 50 ms. */
  pollMs?: number;
  signal?: AbortSignal;
}

interface LockOwner {
  pid: number;
  nonce: string;
  host: string;
  at: number;
}

/**
 * Runs `fn` while holding a cross-process lock file (created with O_EXCL, mode 0600, in a 0700 dir).
 * The file names its owner (pid, a nonce); a lock whose owner process is gone, or that is older than
 * `staleMs`, is taken over safely (renamed aside and checked, so two waiters never both take it).
 */
export async function withFileLock<T>(
  path: string,
  fn: () => Promise<T>,
  options: FileLockOptions = {},
): Promise<T> {
  const release = await acquireFileLock(path, options);
  try {
    return await fn();
  } finally {
    await release();
  }
}

export async function acquireFileLock(
  path: string,
  options: FileLockOptions = {},
): Promise<() => Promise<void>> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const staleMs = options.staleMs ?? 120_000;
  const pollMs = options.pollMs ?? 50;
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const owner: LockOwner = {
    pid: process.pid,
    nonce: randomBytes(8).toString('hex'),
    host: hostname(),
    at: Date.now(),
  };
  const started = Date.now();
  for (;;) {
    if (options.signal?.aborted) throw options.signal.reason;
    if (await tryCreate(path, owner)) return () => releaseLock(path, owner);
    await breakIfStale(path, staleMs);
    if (Date.now() - started > timeoutMs) {
      throw new RayConnectError(
        'REFRESH_FAILED',
        `Another Ray Connect process has held the lock ${path} for too long.`,
        {
          fix: `If no other Ray Connect process is running, delete ${path} and try again.`,
          details: { file: path },
        },
      );
    }
    await sleep(pollMs + Math.floor(Math.random() * pollMs), undefined, { signal: options.signal });
  }
}

async function tryCreate(path: string, owner: LockOwner): Promise<boolean> {
  try {
    const handle = await open(path, 'wx', 0o600);
    try {
      await handle.writeFile(JSON.stringify(owner));
    } catch (e) {
      // e.g. ENOSPC: an empty lock file left here would block every later attempt until it is stale
      await handle.close().catch(() => undefined);
      await unlink(path).catch(() => undefined);
      throw e;
    }
    await handle.close();
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
}

async function releaseLock(path: string, owner: LockOwner): Promise<void> {
  const current = await readOwner(path);
  if (current?.nonce === owner.nonce) await unlink(path).catch(() => undefined);
}

async function readOwner(path: string): Promise<LockOwner | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as LockOwner;
  } catch {
    return undefined;
  }
}

async function breakIfStale(path: string, staleMs: number): Promise<void> {
  let mtimeMs: number;
  try {
    mtimeMs = (await stat(path)).mtimeMs;
  } catch {
    return;
  }
  const owner = await readOwner(path);
  const ownerGone = owner !== undefined && owner.host === hostname() && !processAlive(owner.pid);
  const tooOld = Date.now() - mtimeMs > staleMs;
  // A lock file still being written (no owner yet) is only stale once it is old.
  if (!ownerGone && !tooOld) return;
  const aside = `${path}.stale-${randomBytes(6).toString('hex')}`;
  try {
    await rename(path, aside);
  } catch {
    return; // someone else took it over first
  }
  const moved = await readOwner(aside);
  if (owner !== undefined && moved?.nonce !== owner.nonce) {
    // We moved a fresh lock someone else had just taken: put it back (link fails if a new one exists).
    await link(aside, path).catch(() => undefined);
  }
  await unlink(aside).catch(() => undefined);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
