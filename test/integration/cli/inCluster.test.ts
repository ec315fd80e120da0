// In-cluster service-account sign-in against the real API server: the CLI runs in a private mount namespace where a
// directory laid out like the kubelet's projected volume (..data symlink swapped atomically on rotation) is mounted
// on /var/run/secrets/kubernetes.io/serviceaccount, with KUBERNETES_SERVICE_HOST/PORT pointing at the sandbox API
// server and no kubeconfig at all. Tokens come from TokenRequest.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentReady } from '../../../shared/src/index.js';
import { createToken, kubectl, readSandbox } from '../../sandbox/client.mjs';
import { cliBin, run, type Run, tempDir } from '../ray/helpers.js';
import { inMountNamespace, mountNamespaceUnavailable } from './mountNamespace.js';

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
const NS = 'rc-it-incluster'; // our own namespace for the rotation test (bound tokens, deleted Secrets)

interface Env {
  apiServer: string;
  caFile: string;
  serviceAccounts: { rayUser: { namespace: string; name: string } };
}

/**
 * A service-account volume as the kubelet writes it: files in a timestamped directory, `..data` pointing at it, and
 * `token`, `ca.crt`, `namespace` linking through `..data`. `rotate` swaps `..data` atomically (rename).
 */
function projectedVolume(files: Record<string, string>) {
  const dir = tempDir('rc-sa-');
  let n = 0;
  const write = (content: Record<string, string>) => {
    const ts = `..2026_11_24_00_00_0${n++}.${randomBytes(4).toString('hex')}`;
    mkdirSync(join(dir, ts), { mode: 0o755 });
    for (const [name, value] of Object.entries(content))
      writeFileSync(join(dir, ts, name), value, { mode: 0o644 });
    return ts;
  };
  let current = write(files);
  symlinkSync(current, join(dir, '..data'));
  for (const name of Object.keys(files)) symlinkSync(join('..data', name), join(dir, name));
  return {
    dir,
    rotate(token: string) {
      const next = write({ ...files, token });
      symlinkSync(next, join(dir, '..data_tmp'));
      renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
      rmSync(join(dir, current), { recursive: true });
      current = next;
    },
  };
}

describe('in-cluster service account (CLI in a mount namespace, sandbox)', () => {
  const s = readSandbox() as unknown as Env;
  const api = new URL(s.apiServer);
  const skip = mountNamespaceUnavailable();

  /** A pod's environment: the service host/port, no KUBECONFIG, an empty HOME (no ~/.kube/config). */
  const podEnv = (): NodeJS.ProcessEnv => ({
    PATH: process.env.PATH,
    HOME: tempDir('rc-home-'),
    KUBERNETES_SERVICE_HOST: api.hostname,
    KUBERNETES_SERVICE_PORT: api.port,
    RAY_CONNECT_CONFIG_DIR: tempDir('rc-cli-'),
    RAY_CONNECT_SECRET_STORE: 'memory',
    RAY_CONNECT_BROWSER: 'none',
  });
  const inPod = (dir: string, args: string[]): Promise<Run> => {
    const [cmd, argv] = inMountNamespace(
      [{ source: dir, target: SA_DIR, directory: true }],
      process.execPath,
      [cliBin, ...args],
    );
    return run(cmd, argv, podEnv());
  };

  it('whoami is the ServiceAccount, clusters lists its namespace, no kubeconfig anywhere', async (ctx) => {
    if (skip) return ctx.skip(skip);
    const sa = s.serviceAccounts.rayUser;
    const token = await createToken(sa.namespace, sa.name);
    const vol = projectedVolume({
      token,
      'ca.crt': readFileSync(s.caFile, 'utf8'),
      namespace: sa.namespace,
    });
    const who = await inPod(vol.dir, ['whoami', '--json']);
    expect(who.code, who.stderr).toBe(0);
    expect(JSON.parse(who.stdout)).toMatchObject({
      cluster: 'in-cluster',
      server: `https://${api.hostname}:${api.port}`,
      signIn: {
        status: 'signed-in',
        method: 'in-cluster',
        identity: { username: `system:serviceaccount:${sa.namespace}:${sa.name}` },
      },
    });
    const clusters = await inPod(vol.dir, ['clusters']);
    expect(clusters.code, clusters.stderr).toBe(0);
    expect(clusters.stdout).toMatch(/raycluster-rbac\s+ready\s+kubernetes/);
    expect(clusters.stdout).toMatch(/raycluster-token\s+ready\s+token/);
    expect(who.stdout + who.stderr + clusters.stdout + clusters.stderr).not.toContain(token);
    // outside the namespace there is no service account: the same command has no cluster at all
    const outside = await run(process.execPath, [cliBin, 'whoami'], podEnv());
    expect(outside.code).not.toBe(0);
  });

  describe('token rotation while the agent runs', () => {
    let agent: ChildProcess | undefined;
    let ready: AgentReady;
    const secret = randomBytes(24).toString('hex');

    const boundToken = async (secretName: string): Promise<string> => {
      const r = await kubectl([
        'create',
        'token',
        'ray-user',
        '-n',
        NS,
        '--bound-object-kind',
        'Secret',
        '--bound-object-name',
        secretName,
        '--duration',
        '10m',
      ]);
      if (r.code !== 0) throw new Error(`kubectl create token: ${r.stderr}`);
      return r.stdout.trim();
    };

    function call<T>(method: string, args: unknown[]): Promise<{ status: number; body: { result?: T } }> {
      return new Promise((resolve, reject) => {
        const req = request(
          {
            host: '127.0.0.1',
            port: ready.port,
            path: `/v1/call/${method}`,
            method: 'POST',
            headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
          },
          (res) => {
            let text = '';
            res.on('data', (c) => (text += c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
          },
        );
        req.on('error', reject);
        req.end(JSON.stringify({ args }));
      });
    }

    beforeAll(async () => {
      if (skip) return;
      const objects = [
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } },
        { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'ray-user', namespace: NS } },
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'Role',
          metadata: { name: 'ray-user', namespace: NS },
          rules: [{ apiGroups: ['ray.io'], resources: ['rayclusters'], verbs: ['get', 'list', 'watch'] }],
        },
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'RoleBinding',
          metadata: { name: 'ray-user', namespace: NS },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'ray-user' },
          subjects: [{ kind: 'ServiceAccount', name: 'ray-user', namespace: NS }],
        },
      ];
      for (const o of objects) {
        const r = await kubectl(['apply', '--server-side', '-f', '-'], { input: JSON.stringify(o) });
        if (r.code !== 0) throw new Error(`apply ${o.kind}: ${r.stderr}`);
      }
    });

    afterAll(() => {
      if (agent?.exitCode === null) agent.kill();
    });

    it('the agent keeps working when the kubelet swaps in a new token and the old one is revoked', async (ctx) => {
      if (skip) return ctx.skip(skip);
      const run1 = `rot-${randomBytes(4).toString('hex')}`;
      const run2 = `${run1}-next`;
      for (const name of [run1, run2]) {
        const r = await kubectl(['create', 'secret', 'generic', name, '-n', NS]);
        if (r.code !== 0) throw new Error(`create secret ${name}: ${r.stderr}`);
      }
      const first = await boundToken(run1);
      const vol = projectedVolume({ token: first, 'ca.crt': readFileSync(s.caFile, 'utf8'), namespace: NS });
      const [cmd, argv] = inMountNamespace(
        [{ source: vol.dir, target: SA_DIR, directory: true }],
        process.execPath,
        [cliBin, 'serve'],
      );
      let stderr = '';
      agent = spawn(cmd, argv, {
        env: { ...podEnv(), RAY_CONNECT_AGENT_SECRET: secret },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      agent.stderr?.on('data', (c) => (stderr += c));
      ready = await new Promise<AgentReady>((resolve, reject) => {
        let out = '';
        agent?.stdout?.on('data', (c) => {
          out += c;
          if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0] ?? '{}') as AgentReady);
        });
        agent?.on('exit', (code) => reject(new Error(`agent exited ${code}: ${stderr}`)));
      });

      const clusters = await call<{ id: string; source: string; namespace: string }[]>('listClusters', []);
      expect(clusters.body.result).toContainEqual(
        expect.objectContaining({ id: 'in-cluster', source: 'in-cluster', namespace: NS }),
      );
      const before = await call<{ searched: string[]; errors: unknown[] }>('listRayClusters', ['in-cluster']);
      expect(before.status, JSON.stringify(before.body)).toBe(200);
      expect(before.body.result).toMatchObject({ searched: [NS], errors: [] });

      // the kubelet rotates: new token in place, then the old one stops working (its bound Secret is gone)
      const second = await boundToken(run2);
      vol.rotate(second);
      const del = await kubectl(['delete', 'secret', run1, '-n', NS, '--wait=true']);
      expect(del.code, del.stderr).toBe(0);
      // the API server may cache a successful authentication for a few seconds: wait until it refuses the old token
      await expect
        .poll(async () => (await kubectl(['auth', 'whoami'], { token: first })).code, {
          timeout: 60_000,
          interval: 1000,
        })
        .not.toBe(0);
      expect((await kubectl(['auth', 'whoami'], { token: second })).code).toBe(0);

      const after = await call<{ searched: string[]; errors: unknown[] }>('listRayClusters', ['in-cluster']);
      expect(after.status, JSON.stringify(after.body)).toBe(200);
      expect(after.body.result).toMatchObject({ searched: [NS], errors: [] });
      const signIn = await call<{ status: string; identity?: { username: string } }>('beginSignIn', [
        'in-cluster',
        { method: 'in-cluster' },
      ]);
      expect(signIn.body.result).toMatchObject({
        kind: 'done',
        state: { status: 'signed-in', identity: { username: `system:serviceaccount:${NS}:ray-user` } },
      });
      expect(stderr).not.toContain(first);
      expect(stderr).not.toContain(second);
      agent.stdin?.end();
      await kubectl(['delete', 'secret', run2, '-n', NS]);
    });
  });
});
