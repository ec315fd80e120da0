// The OS keychain against a real Secret Service (gnome-keyring under dbus-run-session), a locked keyring (with and
// without a reachable display: never a hang), a D-Bus without Secret Service, and no D-Bus at all.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { builtCore, ensureKeychainTools, tempDir } from './helpers.js';

const run = promisify(execFile);
const worker = fileURLToPath(new URL('./keychainWorker.mjs', import.meta.url));
let skipReason: string | undefined;

/** Runs the worker in a fresh D-Bus session with its own HOME, optionally with gnome-keyring unlocked and a display. */
async function inSession(
  scenario: string,
  opts: { keyring?: boolean; display?: boolean; busConfig?: string } = {},
): Promise<Record<string, unknown>> {
  const home = tempDir('rc-keychain-');
  const runtime = join(home, 'run');
  mkdirSync(runtime, { mode: 0o700 });
  const steps = [
    opts.display
      ? [
          // A free display number (-displayfd), handed to the services D-Bus starts (the unlock prompter).
          'exec 9>"$HOME/display"; Xvfb -displayfd 9 -nolisten tcp >/dev/null 2>&1 & XVFB=$!',
          'for i in $(seq 100); do [ -s "$HOME/display" ] && break; sleep 0.05; done',
          'export DISPLAY=:$(cat "$HOME/display"); dbus-update-activation-environment DISPLAY',
        ].join('\n')
      : 'unset DISPLAY',
    opts.keyring ? 'printf pass | gnome-keyring-daemon --unlock --components=secrets >/dev/null' : 'true',
    `node ${JSON.stringify(worker)} ${JSON.stringify(builtCore)} ${scenario}; rc=$?`,
    opts.display ? 'kill $XVFB' : 'true',
    'exit $rc',
  ];
  const args = [
    ...(opts.busConfig ? [`--config-file=${opts.busConfig}`] : []),
    '--',
    'bash',
    '-c',
    steps.join('\n'),
  ];
  const env = {
    PATH: process.env['PATH'] ?? '',
    HOME: home,
    XDG_RUNTIME_DIR: runtime,
    XDG_DATA_HOME: join(home, 'data'),
  };
  const { stdout } = await run('dbus-run-session', args, { env, timeout: 60_000 });
  return JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as Record<string, unknown>;
}

describe('OS keychain (Secret Service)', () => {
  beforeAll(async () => {
    if (!existsSync(fileURLToPath(builtCore))) throw new Error('Build the core first: pnpm -r run build');
    skipReason = await ensureKeychainTools();
  }, 300_000);

  it('stores, lists and reads a session in the unlocked keyring; sign-out removes it and says where from', async (ctx) => {
    if (skipReason) return ctx.skip(skipReason);
    const r = await inSession('roundtrip', { keyring: true });
    expect(r['info']).toEqual({ kind: 'os-keychain', label: 'OS keychain (Secret Service)' });
    expect(r['loaded']).toEqual({ token: true, refreshToken: true });
    expect(r['keys']).toHaveLength(3);
    expect(r['secretToolSees']).toBe(true);
    expect((r['signOut'] as { removed: string[] }).removed.sort()).toEqual([
      'Kubernetes token (OS keychain (Secret Service))',
      'refresh token (OS keychain (Secret Service))',
      'sign-in details (OS keychain (Secret Service))',
    ]);
    expect(r['keysAfter']).toEqual([]);
  });

  it('a locked keyring gives KEYCHAIN_LOCKED (Locked property, or the dismissed prompt) and the chooser says so', async (ctx) => {
    if (skipReason) return ctx.skip(skipReason);
    const r = await inSession('locked', { keyring: true });
    expect(r['withDbusSend']).toBe('KEYCHAIN_LOCKED');
    expect(r['withoutDbusSend']).toBe('KEYCHAIN_LOCKED');
    expect(r['chosen']).toMatchObject({
      kind: 'memory',
      degradedReason: 'The OS keychain is locked. Secrets are kept in memory until the test stops.',
    });
  });

  it('a locked keyring with a reachable display (the prompt would wait forever) does not hang us', async (ctx) => {
    if (skipReason) return ctx.skip(skipReason);
    const r = await inSession('locked-display', { keyring: true, display: true });
    expect(r['withoutDbusSend']).toBe('KEYCHAIN_LOCKED');
  });

  it('a D-Bus session without any Secret Service gives KEYCHAIN_UNAVAILABLE and memory storage with the reason', async (ctx) => {
    if (skipReason) return ctx.skip(skipReason);
    const dir = tempDir('rc-bus-');
    mkdirSync(join(dir, 'services'));
    const config = join(dir, 'session.conf');
    writeFileSync(
      config,
      `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>session</type><listen>unix:tmpdir=${dir}</listen><auth>EXTERNAL</auth><servicedir>${join(dir, 'services')}</servicedir>
<policy context="default"><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/><allow own="*"/></policy></busconfig>`,
    );
    const r = await inSession('no-secret-service', { busConfig: config });
    expect(r['probe']).toBe('KEYCHAIN_UNAVAILABLE');
    expect(r['chosen']).toMatchObject({
      kind: 'memory',
      degradedReason: expect.stringContaining('No OS keychain here (no Secret Service)'),
    });
  });

  it('no D-Bus session at all (a typical Jupyter pod): KEYCHAIN_UNAVAILABLE at once, memory with the reason', async () => {
    const home = tempDir('rc-nobus-');
    const { stdout } = await run(process.execPath, [worker, builtCore, 'no-dbus'], {
      env: { PATH: process.env['PATH'] ?? '', HOME: home, XDG_RUNTIME_DIR: join(home, 'none') },
      timeout: 30_000,
    });
    const r = JSON.parse(stdout) as Record<string, unknown>;
    expect(r['probe']).toBe('KEYCHAIN_UNAVAILABLE');
    expect(r['chosen']).toEqual({
      kind: 'memory',
      label: 'memory only: lost when the test stops',
      degradedReason:
        'No OS keychain here (no Secret Service). Secrets are kept in memory until the test stops.',
      degradedCode: 'KEYCHAIN_UNAVAILABLE',
    });
  });
});
