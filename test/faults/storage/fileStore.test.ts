// The opt-in 0600 file store (RAY_CONNECT_SECRET_STORE=file) on a full disk and on a read-only disk. The CLI runs
// inside a private mount namespace (`unshare -m`, we are root) whose config dir is a tiny tmpfs we fill up or
// remount read-only: the real kernel errors (ENOSPC, EROFS), not a mock. Nothing outside that namespace changes.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createToken } from '../../sandbox/client.mjs';
import {
  cliBin,
  cliEnv,
  hasStackTrace,
  kubeconfigFor,
  run,
  sandbox,
  tempDir,
  writeJson,
} from '../helpers.js';

const s = sandbox();
const canUnshare =
  process.getuid?.() === 0 &&
  spawnSync('unshare', ['-m', 'sh', '-c', 'mount -t tmpfs -o size=64k tmpfs /mnt'], { stdio: 'ignore' })
    .status === 0;

/** Runs `steps` (name -> shell) in one private mount namespace; returns each step's output and exit code. */
async function inPrivateMount(
  env: NodeJS.ProcessEnv,
  mountPoint: string,
  steps: [string, string][],
): Promise<Record<string, { out: string; code: number }>> {
  const script = [
    'set -u',
    `mount -t tmpfs -o size=256k,mode=0700 tmpfs "$M" || exit 90`,
    ...steps.map(([name, sh]) => `echo "=== ${name}"; ( ${sh} ) 2>&1; echo "=== rc $?"`),
  ].join('\n');
  const r = await run('unshare', ['-m', 'bash', '-c', script], { ...env, M: mountPoint }, '', 120_000);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  const out: Record<string, { out: string; code: number }> = {};
  const re = /^=== (\S+)\n([\s\S]*?)^=== rc (\d+)$/gm;
  for (const m of r.stdout.matchAll(re)) out[m[1]!] = { out: m[2]!, code: Number(m[3]) };
  expect(Object.keys(out), r.stdout).toEqual(steps.map(([n]) => n));
  return out;
}

describe.skipIf(!canUnshare)('file secret store on a full or read-only disk (CLI, real ENOSPC/EROFS)', () => {
  const work = tempDir('rc-faults-disk-');
  const mountPoint = join(work, 'mnt');
  const file = join(mountPoint, 'cfg', 'secrets.json');
  let env: NodeJS.ProcessEnv;
  let steps: Record<string, { out: string; code: number }>;
  const tokens: string[] = [];

  beforeAll(async () => {
    mkdirSync(mountPoint);
    tokens.push(await createToken(s.namespace, 'ray-user', { expirationSeconds: 600 }));
    tokens.push(await createToken(s.namespace, 'ray-user', { expirationSeconds: 900 }));
    tokens.forEach((t, i) => writeFileSync(join(work, `token${i}`), t, { mode: 0o600 }));
    env = cliEnv(writeJson(join(work, 'config'), kubeconfigFor({})), {
      RAY_CONNECT_SECRET_STORE: 'file',
      RAY_CONNECT_CONFIG_DIR: join(mountPoint, 'cfg'),
    });
    const cli = `"${process.execPath}" "${cliBin}"`;
    const snap = (name: string) => `cp "${file}" "${join(work, name)}"`;
    steps = await inPrivateMount(env, mountPoint, [
      ['login', `${cli} login --token-stdin < "${join(work, 'token0')}"`],
      ['snap-before', snap('before.json')],
      // fill the tmpfs to the last byte
      ['fill', `dd if=/dev/zero of="$M/fill" bs=4k 2>/dev/null; df -k "$M" | tail -1`],
      ['login-full', `${cli} login --token-stdin < "${join(work, 'token1')}"`],
      ['snap-full', snap('after-full.json')],
      ['whoami-full', `${cli} whoami`],
      ['logout-full', `${cli} logout`],
      ['snap-full2', snap('after-full2.json')],
      ['free', `rm "$M/fill"`],
      ['login-again', `${cli} login --token-stdin < "${join(work, 'token1')}"`],
      ['snap-again', snap('again.json')],
      ['remount-ro', `mount -o remount,ro "$M"`],
      ['whoami-ro', `${cli} whoami`],
      ['login-ro', `${cli} login --token-stdin < "${join(work, 'token0')}"`],
      ['logout-ro', `${cli} logout`],
      ['snap-ro', snap('after-ro.json')],
      ['remount-rw', `mount -o remount,rw "$M"`],
      ['logout', `${cli} logout`],
      ['ls', `ls -A "$M/cfg"`],
    ]);
  }, 180_000);

  const failsClearly = (step: string) => {
    const { out, code } = steps[step]!;
    expect(code, out).not.toBe(0);
    expect(out, 'names the file').toContain(file);
    expect(out, 'gives a fix').toMatch(/^ray-connect: error: .+ — \S/m); // <what> — <fix>
    expect(hasStackTrace(out)).toBe(false);
    expect(out.trim().split('\n').length, out).toBeLessThanOrEqual(3);
    for (const t of tokens) expect(out).not.toContain(t);
    return out;
  };

  it('a sign-in on a full disk fails naming the file and the fix (free space); the stored sign-in is untouched and still works', () => {
    expect(steps.login!.code, steps.login!.out).toBe(0);
    const out = failsClearly('login-full');
    expect(out).toMatch(/no space|ENOSPC|full/i);
    expect(out).toMatch(/free/i);
    const before = readFileSync(join(work, 'before.json'), 'utf8');
    expect(readFileSync(join(work, 'after-full.json'), 'utf8')).toBe(before);
    expect(before).toContain(tokens[0]!);
    expect(steps['whoami-full']!.code, steps['whoami-full']!.out).toBe(0);
    expect(steps['whoami-full']!.out).toContain('system:serviceaccount:ray-demo:ray-user');
  });

  it('sign-out on a full disk fails clearly and keeps the file whole (valid JSON, nothing half-written)', () => {
    failsClearly('logout-full');
    const after = readFileSync(join(work, 'after-full2.json'), 'utf8');
    expect(() => JSON.parse(after) as unknown).not.toThrow();
  });

  it('with space again, the same sign-in works (recovers by itself, nothing to repair)', () => {
    expect(steps['login-again']!.code, steps['login-again']!.out).toBe(0);
    expect(readFileSync(join(work, 'again.json'), 'utf8')).toContain(tokens[1]!);
  });

  it('a read-only disk: reading works (whoami); sign-in and sign-out fail naming the file and the fix; the file is unchanged', () => {
    expect(steps['whoami-ro']!.code, steps['whoami-ro']!.out).toBe(0);
    const login = failsClearly('login-ro');
    expect(login).toMatch(/read-only|EROFS/i);
    failsClearly('logout-ro');
    expect(readFileSync(join(work, 'after-ro.json'), 'utf8')).toBe(
      readFileSync(join(work, 'again.json'), 'utf8'),
    );
  });

  it('writable again: sign-out works and leaves no temp or lock files', () => {
    expect(steps.logout!.code, steps.logout!.out).toBe(0);
    expect(steps.ls!.out).not.toMatch(/\.tmp|\.lock/);
  });
});
