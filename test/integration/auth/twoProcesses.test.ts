// Two processes refresh the same grant at once. Refresh tokens rotate and reuse revokes the grant, so without the
// file lock (and the re-read under it) one of them would kill the sign-in. Both must succeed and the grant survive.
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  FileSecretStore,
  SessionStore,
  createKubeClient,
  refreshSession,
  sessionCredentialSource,
  startDeviceSignIn,
  whoAmI,
} from '../../../packages/core/src/index.js';
import { approveDevice } from '../../sandbox/client.mjs';
import { builtCore, sandbox, tempDir } from './helpers.js';

interface WorkerResult {
  ok: boolean;
  username?: string;
  refreshedAt?: number;
  code?: string;
  message?: string;
}

function startWorker(goFile: string, job: object): { ready: Promise<void>; result: Promise<WorkerResult> } {
  const child = spawn(
    process.execPath,
    [fileURLToPath(new URL('./refreshWorker.mjs', import.meta.url)), builtCore, goFile],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
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
  beforeAll(() => {
    s = sandbox();
    if (!existsSync(fileURLToPath(builtCore))) throw new Error('Build the core first: pnpm -r run build');
  });

  it('both succeed, one after the other under the lock, and a later refresh still works', async () => {
    const dir = tempDir('rc-two-');
    const storePath = join(dir, 'secrets.json');
    const configDir = join(dir, 'config');
    const store = new FileSecretStore(storePath);
    const flow = await startDeviceSignIn(
      { clusterId: 'sandbox', ...s.idp },
      { store, verifyIdentity: s.verifyIdentity },
    );
    await approveDevice({ userCode: flow.userCode, user: 'alice' });
    const first = await flow.done;
    const aheadMs = (first.info.expiresAt ?? 0) - 30_000 - Date.now(); // both see the token inside the refresh margin
    const goFile = join(dir, 'go');
    const job = {
      storePath,
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
  });
});
