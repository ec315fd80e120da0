// The sandbox's own lifecycle: a second `up` while running is harmless (nothing restarted, everything still works),
// and it survives `down` then `up` (etcd is wiped, so ServiceAccounts and their tokens are new; the Ray token stays).
// Order-independent: it always leaves the sandbox up (afterAll brings it back if a step failed), so the other files
// and the tiers after this one can run in any order. RC_SANDBOX_LIFECYCLE=0 skips it (e.g. while others use the
// sandbox: `down` interrupts them).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createToken, kubectl, oidcLogin, readSandbox } from '../client.mjs';
import { HEAD_NAMES, HEADS, rayHeadsStatus } from '../lib/ray.mjs';
import { portFree, runningPid } from '../lib/util.mjs';
import { cleanup, getStatus, jobSucceeded, portForward, rayJobSubmit } from './helpers';

const sandboxScript = fileURLToPath(new URL('../sandbox.mjs', import.meta.url));
const DAEMONS = ['oidc', 'etcd', 'kube-apiserver', 'kwok', 'podnet'];
const STEP = 600_000;

function sandbox(cmd: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [sandboxScript, cmd], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('close', (code) => resolve({ code, out }));
  });
}

/** Who is running: daemon pids and, per Ray head, the session of its start and readiness. */
async function snapshot() {
  const heads = await rayHeadsStatus({ stateDir: readSandbox().dir });
  return {
    daemons: Object.fromEntries(DAEMONS.map((d) => [d, runningPid(d) ?? null])),
    heads: Object.fromEntries(HEAD_NAMES.map((n) => [n, { sid: heads[n].sid, ready: heads[n].ready }])),
  };
}

async function headPod(cluster: string): Promise<string> {
  const r = await kubectl([
    'get',
    'pods',
    '-n',
    'ray-demo',
    '-l',
    `ray.io/cluster=${cluster},ray.io/node-type=head`,
    '-o',
    'jsonpath={.items[0].metadata.name}',
  ]);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.trim();
}

/** The end-to-end chain still works: OIDC -> apiserver RBAC, port-forward -> each Ray head with its credential. */
async function worksEndToEnd() {
  const env = readSandbox();
  const alice = (await oidcLogin('alice')).idToken;
  const canI = await kubectl(
    ['auth', 'can-i', 'ray:write', 'rayclusters.ray.io/raycluster-rbac', '-n', 'ray-demo'],
    { token: alice },
  );
  expect(canI.stdout.trim(), canI.stderr).toBe('yes');

  const rayToken = readFileSync(env.rayTokenFile, 'utf8').trim();
  const tokenFwd = await portForward(await headPod('raycluster-token'), 8265, env.adminKubeconfig);
  const rbacFwd = await portForward(await headPod('raycluster-rbac'), 8265, env.adminKubeconfig);
  const noauthFwd = await portForward(await headPod('raycluster-noauth'), 8265, env.adminKubeconfig);
  try {
    expect(await getStatus(tokenFwd.port, '/api/jobs/')).toBe(401);
    expect(await getStatus(tokenFwd.port, '/api/jobs/', rayToken)).toBe(200);
    const sa = await createToken('ray-demo', 'ray-user');
    expect(await getStatus(rbacFwd.port, '/api/jobs/', sa)).toBe(200);
    expect(await getStatus(rbacFwd.port, '/api/jobs/', alice)).toBe(200);
    expect(await getStatus(noauthFwd.port, '/api/jobs/')).toBe(200);
    const r = await rayJobSubmit(tokenFwd.port, rayToken);
    expect(jobSucceeded(r), r.out).toBe(true);
  } finally {
    await Promise.all([tokenFwd.close(), rbacFwd.close(), noauthFwd.close()]);
  }
}

const enabled = process.env.RC_SANDBOX_LIFECYCLE !== '0';

describe.runIf(enabled)('sandbox lifecycle', () => {
  afterAll(async () => {
    await cleanup();
    // never leave the sandbox down for the tiers after this one
    if ((await sandbox('status')).code !== 0) await sandbox('up');
  }, STEP);

  it(
    'a second `up` while running restarts nothing and everything still works',
    async () => {
      const before = await snapshot();
      expect(Object.values(before.daemons).every(Boolean), JSON.stringify(before)).toBe(true);
      expect(
        Object.values(before.heads).every((h) => h.ready && h.sid),
        JSON.stringify(before),
      ).toBe(true);
      const r = await sandbox('up');
      expect(r.code, r.out).toBe(0);
      expect(await snapshot()).toEqual(before);
      await worksEndToEnd();
    },
    STEP,
  );

  it(
    '`down` stops every daemon and Ray head and frees their ports',
    async () => {
      const r = await sandbox('down');
      expect(r.code, r.out).toBe(0);
      const after = await snapshot();
      expect(after.daemons).toEqual(Object.fromEntries(DAEMONS.map((d) => [d, null])));
      for (const n of HEAD_NAMES) expect(after.heads[n].sid, n).toBeUndefined();
      const ports = readSandbox().ports as Record<string, number>;
      const rayPorts = Object.values(HEADS).flatMap((h) => [h.dashboard, h.gcs, h.client]);
      for (const port of [ports.apiserver, ports.oidc, ports.etcd, ...rayPorts]) {
        expect(await portFree(port), `port ${port}`).toBe(true);
      }
      expect((await sandbox('status')).code).not.toBe(0);
    },
    STEP,
  );

  it(
    '`up` after `down` brings back a working sandbox (new ServiceAccount tokens, same Ray token)',
    async () => {
      const r = await sandbox('up');
      expect(r.code, r.out).toBe(0);
      const s = await sandbox('status');
      expect(s.code, s.out).toBe(0);
      await worksEndToEnd();
    },
    STEP,
  );
});
