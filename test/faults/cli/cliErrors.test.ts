// CLI errors against the sandbox: each is one line + a fix, the documented non-zero exit code, no stack trace;
// the --json form is one {"error": {...}} object.
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { oidcLogin } from '../../sandbox/client.mjs';
import { cli, cliEnv, closedPort, hasStackTrace, kubeconfigFor, sandbox, tempDir } from '../helpers.js';

const s = sandbox();
let alice = '';
let bob = '';

function kubeconfig(user: Record<string, unknown>, cluster: Record<string, unknown> = {}) {
  const file = join(tempDir(), 'config');
  writeFileSync(file, JSON.stringify(kubeconfigFor(user, cluster)), { mode: 0o600 });
  return file;
}

function expiredJwt(): string {
  const b = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${b({ alg: 'RS256', kid: 'x' })}.${b({ iss: s.oidc.issuer, sub: 'alice', aud: 'kubernetes', exp: Math.floor(Date.now() / 1000) - 3600 })}.c2ln`;
}

function expectOneClearLine(
  r: { code: number; stdout: string; stderr: string },
  exit: number,
  pattern: RegExp,
) {
  const all = `${r.stdout}\n${r.stderr}`;
  expect(r.code, all).toBe(exit);
  expect(hasStackTrace(all), all).toBe(false);
  const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
  expect(lines.length, r.stderr).toBeGreaterThanOrEqual(1);
  expect(lines.length, r.stderr).toBeLessThanOrEqual(4);
  expect(r.stderr, r.stderr).toMatch(pattern);
  expect(r.stderr).toMatch(/^ray-connect: error: .+ — \S/m); // <what> — <fix>
}

beforeAll(async () => {
  alice = kubeconfig({ token: ((await oidcLogin('alice')) as { idToken: string }).idToken });
  bob = kubeconfig({ token: ((await oidcLogin('bob')) as { idToken: string }).idToken });
});

describe('CLI errors: one clear line + fix, non-zero exit, no stack', () => {
  it('unreachable cluster (closed port) -> exit 6', async () => {
    const port = await closedPort();
    const kc = kubeconfig({ token: 'x' }, { server: `https://127.0.0.1:${port}` });
    for (const args of [['whoami'], ['clusters'], ['connect', 'raycluster-token']]) {
      const r = await cli(args, cliEnv(kc));
      expectOneClearLine(r, 6, new RegExp(`127\\.0\\.0\\.1:${port}`));
    }
  });

  it('unresolvable host -> exit 6', async () => {
    const kc = kubeconfig({ token: 'x' }, { server: 'https://no-such-host.invalid:6443' });
    expectOneClearLine(await cli(['clusters'], cliEnv(kc)), 6, /no-such-host\.invalid/);
  });

  it('wrong CA (the system bundle, not the sandbox CA) -> exit 6, says the certificate is not trusted', async () => {
    const kc = kubeconfig({ token: 'x' }, { 'certificate-authority': '/etc/ssl/certs/ca-certificates.crt' });
    expectOneClearLine(await cli(['clusters'], cliEnv(kc)), 6, /certificate|TLS|trust/i);
  });

  it('CA file that does not exist -> names the file; not PEM -> certificate not trusted; non-zero, no stack', async () => {
    const missing = join(tempDir(), 'missing.crt');
    const r1 = await cli(
      ['clusters'],
      cliEnv(kubeconfig({ token: 'x' }, { 'certificate-authority': missing })),
    );
    expectOneClearLine(r1, 6, new RegExp(missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    const notPem = join(tempDir(), 'ca.crt');
    writeFileSync(notPem, 'not a certificate');
    const r2 = await cli(
      ['clusters'],
      cliEnv(kubeconfig({ token: 'x' }, { 'certificate-authority': notPem })),
    );
    expectOneClearLine(r2, 6, /certificate/i);
  });

  it('expired token -> exit 3 (sign in again)', async () => {
    const r = await cli(['clusters'], cliEnv(kubeconfig({ token: expiredJwt() })));
    expectOneClearLine(r, 3, /expired/i);
  });

  it('garbage token -> exit 3', async () => {
    const r = await cli(['clusters'], cliEnv(kubeconfig({ token: 'garbage-token-value' })));
    expectOneClearLine(r, 3, /token|sign/i);
    expect(r.stderr).not.toContain('garbage-token-value');
  });

  it('missing RBAC (bob connects to a token cluster: no Secret access) -> exit 4 with the RBAC fix', async () => {
    const r = await cli(['connect', s.rayClusters.token!, '-n', s.namespace], cliEnv(bob));
    expectOneClearLine(r, 4, /secrets|denied|forbidden|not allowed/i);
    expect(r.stderr).toMatch(/kubectl|Role/);
  });

  it('missing RBAC, --json: one {"error"} object on stderr', async () => {
    const r = await cli(['connect', s.rayClusters.rbac!, '-n', s.namespace, '--json'], cliEnv(bob));
    expect(r.code).toBe(4);
    const parsed = JSON.parse(r.stderr.trim()) as { error: { code: string; message: string; fix?: string } };
    expect(parsed.error.code).toBe('ACCESS_DENIED');
    expect(parsed.error.fix).toBeTruthy();
  });

  it('unknown RayCluster -> exit 5', async () => {
    const r = await cli(['connect', 'no-such-raycluster', '-n', s.namespace], cliEnv(alice));
    expect(r.code).toBe(5);
    expect(hasStackTrace(r.stderr)).toBe(false);
  });

  it('unknown context -> non-zero, names it', async () => {
    const r = await cli(['clusters', '--context', 'nope-ctx'], cliEnv(alice));
    expect(r.code).not.toBe(0);
    expect(hasStackTrace(r.stderr)).toBe(false);
    expect(r.stderr).toContain('nope-ctx');
  });

  describe('a fixed local port already in use', () => {
    let holder: Server;
    let port = 0;
    beforeAll(async () => {
      holder = createServer();
      await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
      port = (holder.address() as { port: number }).port;
    });
    afterAll(() => new Promise<void>((r) => holder.close(() => r())));

    it('connect --dashboard-port <busy> -> non-zero exit, names the port, no stack; the holder is untouched', async () => {
      const r = await cli(
        ['connect', s.rayClusters.token!, '-n', s.namespace, '--dashboard-port', String(port)],
        cliEnv(alice),
      );
      expect(r.code, r.stderr).not.toBe(0);
      expect(hasStackTrace(r.stderr + r.stdout), r.stderr).toBe(false);
      expect(r.stderr).toContain(String(port));
      expect(r.stderr).toMatch(/^ray-connect: error: .+ — \S/m); // <what> — <fix>
      expect(holder.listening).toBe(true);
    });

    it('connect --client-port <busy> -> same', async () => {
      const r = await cli(
        ['connect', s.rayClusters.token!, '-n', s.namespace, '--client-port', String(port)],
        cliEnv(alice),
      );
      expect(r.code, r.stderr).not.toBe(0);
      expect(hasStackTrace(r.stderr + r.stdout), r.stderr).toBe(false);
      expect(r.stderr).toContain(String(port));
    });

    it.each(['0x50', '-1', '70000', 'abc'])(
      'connect --dashboard-port %s -> usage error (exit 2)',
      async (p) => {
        const r = await cli(
          ['connect', s.rayClusters.token!, '-n', s.namespace, '--dashboard-port', p],
          cliEnv(alice),
        );
        expect(r.code, r.stderr).toBe(2);
        expect(hasStackTrace(r.stderr)).toBe(false);
      },
    );
  });
});
