// The CLI end to end against the sandbox: `ray-connect connect`, then Ray's own `ray job submit` with the env from
// `ray-connect env`, on the token, secretName, legacy and Kubernetes-RBAC clusters, as alice (OIDC user).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  cliBin,
  cliEnv,
  rayJobSubmit,
  run,
  sandbox,
  startConnect,
  tempDir,
  userKubeconfig,
} from '../ray/helpers.js';

describe('ray-connect connect + env + ray job submit (sandbox)', () => {
  const s = sandbox();
  let kubeconfig: string;
  beforeAll(async () => {
    kubeconfig = await userKubeconfig('alice');
  });

  it('clusters lists every shape with its auth mode', async () => {
    const r = await run(process.execPath, [cliBin, 'clusters', '--json'], cliEnv(kubeconfig));
    expect(r.code).toBe(0);
    const list = JSON.parse(r.stdout) as { items: { name: string; authMode: string }[] };
    const modes = Object.fromEntries(list.items.map((i) => [i.name, i.authMode]));
    expect(modes).toMatchObject({
      'raycluster-token': 'token',
      'raycluster-secretname': 'token',
      'raycluster-legacy': 'token',
      'raycluster-rbac': 'kubernetes',
      'raycluster-noauth': 'none',
      'raycluster-empty-auth': 'none',
    });
  });

  it.each(['token', 'secretName', 'legacy', 'rbac'])(
    '%s: connect, env, ray job submit succeeds',
    async (key) => {
      const name = s.rayClusters[key] ?? '';
      const env = cliEnv(kubeconfig);
      const connect = await startConnect([name], env);
      try {
        const shown = connect.output().stdout;
        expect(shown).toMatch(/Dashboard: http:\/\/127\.0\.0\.1:\d+/);
        expect(shown).not.toMatch(/RAY_AUTH_TOKEN='(?!<hidden)/); // the token is not printed by connect
        const e = await run(process.execPath, [cliBin, 'env', name, '--format', 'json'], env);
        expect(e.code, e.stderr).toBe(0);
        const session = JSON.parse(e.stdout) as { env: Record<string, string>; rayClientAddress?: string };
        expect(session.env.RAY_AUTH_MODE).toBe('token');
        expect(session.env.RAY_ADDRESS).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
        expect(session.rayClientAddress).toMatch(/^ray:\/\/127\.0\.0\.1:\d+$/);
        const home = tempDir('rc-rayhome-');
        const marker = `rc-it-${key}-ok`;
        const job = await rayJobSubmit(session.env, marker, home);
        expect(job.code, job.stdout + job.stderr).toBe(0);
        expect(job.stdout + job.stderr).toContain(marker);
        expect(job.stdout + job.stderr).toMatch(/succeeded/);
        expect(existsSync(join(home, '.ray', 'auth_token'))).toBe(false);
      } finally {
        expect(await connect.stop()).toBe(0);
      }
    },
  );

  it('sh format evals in a shell and the job succeeds', async () => {
    const env = cliEnv(kubeconfig);
    const connect = await startConnect([s.rayClusters.token ?? '', '-n', s.namespace], env);
    try {
      const script = `eval "$("${process.execPath}" "${cliBin}" env ${s.rayClusters.token})" && exec ray job submit -- python -c "print('rc-it-sh-ok')"`;
      const job = await run('sh', ['-c', script], {
        ...env,
        PATH: `${join(process.env.RC_CACHE || join(process.env.HOME ?? '', '.cache', 'ray-connect'), 'ray-venv', 'bin')}:${process.env.PATH}`,
      });
      expect(job.code, job.stderr).toBe(0);
      expect(job.stdout + job.stderr).toContain('rc-it-sh-ok');
    } finally {
      await connect.stop();
    }
  });

  it('env without a running connect exits 7 with the fix', async () => {
    const r = await run(process.execPath, [cliBin, 'env', 'raycluster-token'], cliEnv(kubeconfig));
    expect(r.code).toBe(7);
    expect(r.stderr).toMatch(/ray-connect connect raycluster-token/);
  });

  it('stop leaves nothing listening', async () => {
    const env = cliEnv(kubeconfig);
    const connect = await startConnect([s.rayClusters.noauth ?? '', '--json'], env);
    const line =
      connect
        .output()
        .stdout.split('\n')
        .find((l) => l.startsWith('{"connection"')) ?? '{}';
    const url =
      (JSON.parse(line) as { connection?: { dashboardUrl?: string } }).connection?.dashboardUrl ?? '';
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await connect.stop()).toBe(0);
    await expect(fetch(url + '/api/version')).rejects.toThrow();
  });
});
