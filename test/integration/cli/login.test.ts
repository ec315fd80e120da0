// `ray-connect login` against the sandbox: device flow (approved through the provider's pages), a ServiceAccount
// token on stdin, kubeconfig credentials; then whoami / clusters use the stored sign-in (file store, opted in).
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { approveDevice, createToken } from '../../sandbox/client.mjs';
import { cliBin, cliEnv, run, sandbox, tempDir } from '../ray/helpers.js';

interface OidcInfo {
  oidc: { issuer: string; clientId: string; caFile: string };
  serviceAccounts: { rayUser: { namespace: string; name: string } };
}

/** A kubeconfig whose user has no credentials: sign-in has to come from `ray-connect login`. */
function bareKubeconfig(): string {
  const s = sandbox();
  const file = join(tempDir(), 'bare.kubeconfig');
  writeFileSync(
    file,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      'current-context': 'sandbox-bare',
      clusters: [{ name: 'sandbox', cluster: { server: s.apiServer, 'certificate-authority': s.caFile } }],
      users: [{ name: 'bare', user: {} }],
      contexts: [
        { name: 'sandbox-bare', context: { cluster: 'sandbox', user: 'bare', namespace: s.namespace } },
      ],
    }),
    { mode: 0o600 },
  );
  return file;
}

describe('ray-connect login (sandbox)', () => {
  const s = sandbox() as ReturnType<typeof sandbox> & OidcInfo;

  it('--device: prints a code, the sign-in is stored, whoami and clusters use it', async () => {
    const env = {
      ...cliEnv(bareKubeconfig()),
      RAY_CONNECT_SECRET_STORE: 'file',
      RAY_CONNECT_OIDC_CA_FILE: s.oidc.caFile,
    };
    const before = await run(process.execPath, [cliBin, 'clusters'], env);
    expect(before.code).toBe(3);
    expect(before.stderr).toMatch(/Not signed in/);

    const child = spawn(
      process.execPath,
      [cliBin, 'login', '--device', '--issuer', s.oidc.issuer, '--client-id', s.oidc.clientId],
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    const code = await new Promise<string>((resolve) =>
      child.stderr.on('data', (c) => {
        stderr += c;
        const m = /enter the code: (\S+)/.exec(stderr);
        if (m?.[1]) resolve(m[1]);
      }),
    );
    await approveDevice({ userCode: code, user: 'alice' });
    const exit = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(exit, stderr).toBe(0);
    expect(stdout).toMatch(/Signed in to sandbox-bare as oidc:alice \(device\)/);

    const who = await run(process.execPath, [cliBin, 'whoami', '--json'], env);
    expect(JSON.parse(who.stdout)).toMatchObject({
      signIn: { status: 'signed-in', method: 'device', identity: { username: 'oidc:alice' } },
    });
    const clusters = await run(process.execPath, [cliBin, 'clusters'], env);
    expect(clusters.code, clusters.stderr).toBe(0);
    expect(clusters.stdout).toMatch(/raycluster-rbac\s+ready\s+kubernetes/);

    const out = await run(process.execPath, [cliBin, 'logout'], env);
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/Removed:[\s\S]*refresh token/);
    expect((await run(process.execPath, [cliBin, 'clusters'], env)).code).toBe(3);
  });

  it('--token-stdin: a ServiceAccount token from stdin, never argv', async () => {
    const env = { ...cliEnv(bareKubeconfig()), RAY_CONNECT_SECRET_STORE: 'file' };
    const sa = s.serviceAccounts.rayUser;
    const token = await createToken(sa.namespace, sa.name);
    const r = await run(process.execPath, [cliBin, 'login', '--token-stdin'], env, token);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`as system:serviceaccount:${sa.namespace}:${sa.name}`));
    expect(r.stdout + r.stderr).not.toContain(token);
    const argv = await run(process.execPath, [cliBin, 'login', '--token', 'x'], env);
    expect(argv.code).toBe(2);
    expect(argv.stderr).toMatch(/never passed in argv/);
  });

  it('--kubeconfig: the context own credentials, checked with the API server', async () => {
    const env = cliEnv(sandbox().adminKubeconfig);
    const r = await run(process.execPath, [cliBin, 'login', '--kubeconfig'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Signed in to .* as .*\(kubeconfig\)/);
  });
});
