// Two processes refresh the same grant at once. Refresh tokens rotate and reuse revokes the grant, so without the
// file lock (and the re-read under it) one of them would kill the sign-in. Both must succeed and the grant survive.
// Once with the opt-in file store, once with the real OS keychain (gnome-keyring on a D-Bus session we start).
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FileSecretStore,
  KeyringSecretStore,
  SessionStore,
  createKubeClient,
  refreshSession,
  sessionCredentialSource,
  startDeviceSignIn,
  whoAmI,
} from '../../../packages/core/src/index.js';
import type { SecretStore } from '../../../packages/core/src/index.js';
import { approveDevice } from '../../sandbox/client.mjs';
import { builtCore, ensureKeychainTools, sandbox, tempDir } from './helpers.js';

interface WorkerResult {
  ok: boolean;
  username?: string;
  refreshedAt?: number;
  code?: string;
  message?: string;
}

function startWorker(goFile: string, job: object): { ready: Promise<void>; result: Promise<WorkerResult> } {
  const script = fileURLToPath(new URL('./refreshWorker.mjs', import.meta.url));
  const child = spawn(process.execPath, [script, builtCore, goFile], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((r) => (onReady = r));
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d: string) => {
    out += d;
    if (out.startsWith('ready\n')) onReady();
  });
  const result = new Promise<WorkerResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      const line = out.split('\n').filter(Boolean).pop() ?? '';
      try {
        resolve(JSON.parse(line) as WorkerResult);
      } catch {
        reject(new Error(`worker exited ${code} without a result: ${out}`));
      }
    });
  });
  child.stdin.end(JSON.stringify(job));
  return { ready, result };
}

describe('two processes refreshing the same grant', () => {
  let s: ReturnType<typeof sandbox>;
  let busPid: number | undefined;
  beforeAll(() => {
    s = sandbox();
    if (!existsSync(fileURLToPath(builtCore))) throw new Error('Build the core first: pnpm -r run build');
  });
  afterAll(() => {
    if (busPid !== undefined) process.kill(busPid);
  });

  /** Signs alice in, then releases two workers at once into the refresh margin; checks the grant afterwards. */
  async function race(store: SecretStore, storeJob: object): Promise<void> {
    const dir = tempDir('rc-two-');
    const configDir = join(dir, 'config');
    const flow = await startDeviceSignIn(
      { clusterId: 'sandbox', ...s.idp },
      { store, verifyIdentity: s.verifyIdentity },
    );
    await approveDevice({ userCode: flow.userCode, user: 'alice' });
    const first = await flow.done;
    const aheadMs = (first.info.expiresAt ?? 0) - 30_000 - Date.now(); // both see the token inside the margin
    const goFile = join(dir, 'go');
    const job = {
      ...storeJob,
      configDir,
      clusterId: 'sandbox',
      aheadMs,
      server: s.env.apiServer,
      caFile: s.env.caFile,
    };
    const workers = [startWorker(goFile, job), startWorker(goFile, job)];
    await Promise.all(workers.map((w) => w.ready));
    writeFileSync(goFile, '');
    const results = await Promise.all(workers.map((w) => w.result));
    for (const r of results) expect(r).toMatchObject({ ok: true, username: 'oidc:alice' });
    const after = await new SessionStore(store).load('sandbox');
    expect(after?.info.failure).toBeUndefined();
    expect(after?.refreshToken?.equals(first.refreshToken ?? '')).toBe(false);
    // The grant survived: one more refresh with the stored (rotated) refresh token works.
    const next = await refreshSession('sandbox', { store, configDir }, { rejected: after!.token });
    expect(next.refreshToken?.equals(after!.refreshToken ?? '')).toBe(false);
    const client = createKubeClient({
      server: s.env.apiServer,
      ca: s.ca,
      credential: sessionCredentialSource('sandbox', { store, configDir }),
    });
    expect((await whoAmI(client)).username).toBe('oidc:alice');
  }

  it('with the file store: both succeed, one after the other under the lock, and a later refresh works', async () => {
    const storePath = join(tempDir('rc-two-store-'), 'secrets.json');
    await race(new FileSecretStore(storePath), { storePath });
  });

  it('with the OS keychain (Secret Service): the same', async (ctx) => {
    const skipReason = await ensureKeychainTools();
    if (skipReason !== undefined) return ctx.skip(skipReason);
    const home = tempDir('rc-two-home-');
    mkdirSync(join(home, 'run'), { mode: 0o700 });
    const base = { PATH: process.env['PATH'] ?? '', HOME: home, XDG_RUNTIME_DIR: join(home, 'run') };
    const [address, pid] = execFileSync(
      'dbus-daemon',
      ['--session', '--fork', '--print-address=1', '--print-pid=1'],
      {
        env: base,
        encoding: 'utf8',
      },
    )
      .trim()
      .split('\n');
    busPid = Number(pid);
    const keychainEnv = { ...base, DBUS_SESSION_BUS_ADDRESS: address ?? '' };
    execFileSync('gnome-keyring-daemon', ['--unlock', '--components=secrets'], {
      env: keychainEnv,
      input: 'pass',
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    const store = new KeyringSecretStore({ env: { ...process.env, ...keychainEnv } });
    await store.probe();
    await race(store, { keychainEnv });
  }, 300_000);
});
