import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { acquireFileLock, withFileLock } from './fileLock.js';

const run = promisify(execFile);
const coreDir = fileURLToPath(new URL('../../', import.meta.url));
const built = join(coreDir, 'dist/auth/fileLock.js');

describe('withFileLock', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rc-lock-'));

  beforeAll(() => {
    // The child processes run the built code: build it when missing or older than the source.
    const source = join(coreDir, 'src/auth/fileLock.ts');
    if (!existsSync(built) || statSync(built).mtimeMs < statSync(source).mtimeMs) {
      try {
        execFileSync(join(coreDir, 'node_modules/.bin/tsc'), ['-b'], { cwd: coreDir, stdio: 'ignore' });
      } catch {
        // tsc exits non-zero on errors elsewhere but still emits; the check below decides.
      }
    }
    expect(existsSync(built)).toBe(true);
  }, 120_000);

  it('lets one holder in at a time within a process', async () => {
    const path = join(dir, 'a.lock');
    const log: string[] = [];
    await Promise.all(
      ['x', 'y', 'z'].map((n) =>
        withFileLock(path, async () => {
          log.push(`enter ${n}`);
          await new Promise((r) => setTimeout(r, 5));
          log.push(`leave ${n}`);
        }),
      ),
    );
    for (let i = 0; i < log.length; i += 2) expect(log[i + 1]).toBe(log[i]?.replace('enter', 'leave'));
    expect(existsSync(path)).toBe(false);
  });

  it('serialises two real processes contending for the same lock', async () => {
    const path = join(dir, 'b.lock');
    const logPath = join(dir, 'b.log');
    writeFileSync(logPath, '');
    const worker = fileURLToPath(new URL('./testing/lockWorker.mjs', import.meta.url));
    const url = pathToFileURL(built).href;
    await Promise.all([
      run(process.execPath, [worker, url, path, logPath, 'p1', '15']),
      run(process.execPath, [worker, url, path, logPath, 'p2', '15']),
    ]);
    const lines = readFileSync(logPath, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(60);
    for (let i = 0; i < lines.length; i += 2) expect(lines[i + 1]).toBe(lines[i]?.replace('enter', 'leave'));
    expect(new Set(lines.map((l) => l.split(' ')[1]))).toEqual(new Set(['p1', 'p2']));
  }, 60_000);

  it('takes over a lock whose owner process is gone', async () => {
    const path = join(dir, 'c.lock');
    const { stdout } = await run(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
    const { hostname } = await import('node:os');
    writeFileSync(path, JSON.stringify({ pid: Number(stdout), nonce: 'dead', host: hostname(), at: 0 }));
    const release = await acquireFileLock(path, { timeoutMs: 5000 });
    expect(JSON.parse(readFileSync(path, 'utf8')).pid).toBe(process.pid);
    await release();
  });

  it('takes over an old lock it cannot check (unreadable owner)', async () => {
    const path = join(dir, 'd.lock');
    writeFileSync(path, 'garbage');
    const { utimesSync } = await import('node:fs');
    utimesSync(path, new Date(0), new Date(0));
    const release = await acquireFileLock(path, { staleMs: 1000, timeoutMs: 5000 });
    await release();
  });

  it('gives up with a clear error when a live owner holds it too long', async () => {
    const path = join(dir, 'e.lock');
    const release = await acquireFileLock(path);
    await expect(acquireFileLock(path, { timeoutMs: 100, pollMs: 10 })).rejects.toMatchObject({
      code: 'REFRESH_FAILED',
      message: expect.stringContaining(path),
    });
    await release();
  });

  it('creates the lock 0600 in a 0700 directory', async () => {
    const path = join(dir, 'sub', 'f.lock');
    const release = await acquireFileLock(path);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'sub')).mode & 0o777).toBe(0o700);
    await release();
  });
});
