// One sign-in in a pod (issue 14, item 7): no OS keychain, the agent of the Jupyter server (`ray-connect serve`,
// started as the extension does) holds the sign-in in memory, and `ray-connect` in a terminal uses it through
// the agent's discovery file: whoami, clusters, token, env of a connection made through the agent, login and
// logout. Stop the agent and the CLI is signed out, with the hint; discovery files with a wrong mode or owner
// are ignored with a warning. The bundle is the one the wheel ships (agent and console script run the same file).
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentReady, ConnectionSummary, SignInProgress } from '../../../shared/src/index.js';
import { approveDevice, oidcLogin } from '../../sandbox/client.mjs';
import { run, sandbox, secretToken, tempDir } from '../ray/helpers.js';

const bundle = new URL('../../../packages/cli/dist/ray-connect.mjs', import.meta.url).pathname;

interface OidcInfo {
  oidc: { issuer: string; clientId: string; caFile: string };
}

/** A kubeconfig whose user has no credentials: the sign-in has to come from Ray Connect. */
function bareKubeconfig(dir: string): string {
  const s = sandbox();
  const file = join(dir, 'bare.kubeconfig');
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

describe('one sign-in in the pod: ray-connect uses the Jupyter server agent (sandbox)', () => {
  const s = sandbox() as ReturnType<typeof sandbox> & OidcInfo;
  const home = tempDir('rc-pod-home-');
  const configDir = join(home, '.config', 'ray-connect');
  // What a JupyterLab terminal in a workbench has: no D-Bus session (so no keychain), no secret store chosen.
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    XDG_RUNTIME_DIR: join(home, 'no-runtime-dir'),
    KUBECONFIG: bareKubeconfig(home),
    RAY_CONNECT_BROWSER: 'none',
    RAY_CONNECT_OIDC_CA_FILE: s.oidc.caFile,
  };
  const cli = (args: string[], input?: string) => run(process.execPath, [bundle, ...args], env, input);
  const secret = randomBytes(24).toString('hex');
  const clusterId = 'context:sandbox-bare';
  let agent: ChildProcess;
  let ready: AgentReady;
  let agentErr = '';

  function call<T>(method: string, args: unknown[]): Promise<T> {
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
          res.on('end', () => {
            const body = JSON.parse(text) as { result?: T; error?: unknown };
            if (res.statusCode === 200) resolve(body.result as T);
            else reject(new Error(`${method}: ${res.statusCode} ${JSON.stringify(body.error)}`));
          });
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify({ args }));
    });
  }

  beforeAll(async () => {
    expect(existsSync(bundle), 'run pnpm --filter @ray-connect/cli build first').toBe(true);
    // As the Jupyter extension starts it (agent.py): the per-start secret in its env, stdin a pipe it holds.
    agent = spawn(process.execPath, [bundle, 'serve', '--port', '0'], {
      env: { ...env, RAY_CONNECT_AGENT_SECRET: secret },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    agent.stderr?.on('data', (c) => (agentErr += c));
    ready = await new Promise<AgentReady>((resolve, reject) => {
      let out = '';
      agent.stdout?.on('data', (c) => {
        out += c;
        if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0] ?? '{}') as AgentReady);
      });
      agent.on('exit', (code) => reject(new Error(`agent exited ${code}: ${agentErr}`)));
    });
    // The panel's sign-in: device code through the agent's API, approved on the provider's pages.
    const progress = await call<SignInProgress>('beginSignIn', [
      clusterId,
      { method: 'device', issuer: s.oidc.issuer, clientId: s.oidc.clientId },
    ]);
    if (progress.kind !== 'device') throw new Error(`expected a device flow, got ${progress.kind}`);
    const done = call('completeSignIn', [progress.loginId]);
    await approveDevice({ userCode: progress.userCode, user: 'alice' });
    await done;
  });
  afterAll(() => {
    if (agent.exitCode === null) agent.kill();
  });

  it('the agent is findable by its user only: <config dir>/agents/<pid>.json, 0600 in a 0700 dir', () => {
    const file = join(configDir, 'agents', `${ready.pid}.json`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(configDir, 'agents')).mode & 0o777).toBe(0o700);
    expect(readFileSync(file, 'utf8')).toContain(`"port":${ready.port}`);
  });

  it('whoami in a terminal shows the panel sign-in, and says how long it lasts and how to keep it', async () => {
    const who = await cli(['whoami']);
    expect(who.code, who.stderr).toBe(0);
    expect(who.stdout).toMatch(/^oidc:alice on sandbox-bare .* via device/);
    expect(who.stderr).toContain(`Ray Connect agent of your Jupyter server (pid ${ready.pid})`);
    expect(who.stderr).toMatch(/kept in memory until this Jupyter server stops/);
    expect(who.stderr).toContain('RAY_CONNECT_SECRET_STORE=file');
    expect(who.stderr).toContain('~/.config/ray-connect/secrets.json');
    const json = JSON.parse((await cli(['whoami', '--json'])).stdout) as {
      signIn: { status: string };
      agent: { pid: number };
      storage: { kind: string };
    };
    expect(json).toMatchObject({
      signIn: { status: 'signed-in' },
      agent: { pid: ready.pid },
      storage: { kind: 'memory' },
    });
  });

  it('clusters lists, token prints the Ray token, env hands out the env of a connection made through the agent', async () => {
    const clusters = await cli(['clusters']);
    expect(clusters.code, clusters.stderr).toBe(0);
    expect(clusters.stdout).toMatch(/raycluster-token\s+ready\s+token/);

    const name = s.rayClusters.token ?? '';
    const detail = s.rayClusterDetails.token;
    const token = await cli(['token', name]);
    expect(token.code, token.stderr).toBe(0);
    expect(token.stdout.trim()).toBe(await secretToken(detail?.secretName ?? '', s.namespace));

    // Connected in the panel (the agent holds the forward); `ray-connect env` in a terminal gets its env.
    const ref = { clusterId, namespace: s.namespace, name };
    const connection = await call<ConnectionSummary>('connect', [ref]);
    try {
      const e = await cli(['env', name, '--format', 'json']);
      expect(e.code, e.stderr).toBe(0);
      const session = JSON.parse(e.stdout) as { env: Record<string, string> };
      expect(session.env.RAY_ADDRESS).toBe(connection.dashboardUrl);
      expect(session.env.RAY_AUTH_MODE).toBe('token');
      expect(session.env.RAY_AUTH_TOKEN).toBe(token.stdout.trim());
    } finally {
      await call('disconnect', [ref]);
    }
  });

  it('logout and login in the terminal change the one sign-in the agent holds', async () => {
    const out = await cli(['logout']);
    expect(out.code, out.stderr).toBe(0);
    expect(
      (await call<{ signIn: { status: string } }[]>('listClusters', [])).find(Boolean)?.signIn.status,
    ).toBe('signed-out');
    const { idToken } = (await oidcLogin('alice')) as { idToken: string };
    const login = await cli(['login', '--token-stdin'], idToken);
    expect(login.code, login.stderr).toBe(0);
    expect(login.stderr).toContain(`agent of your Jupyter server (pid ${ready.pid})`);
    expect(login.stdout + login.stderr).not.toContain(idToken);
    // The next command is still signed in (the old bug: the CLI's own memory died with `login`).
    const who = await cli(['whoami']);
    expect(who.code, who.stderr).toBe(0);
    expect(who.stdout).toMatch(/^oidc:alice on sandbox-bare .* via token/);
  });

  it('a discovery file with a wrong mode or owner is ignored with a warning; the real agent is still used', async () => {
    const dir = join(configDir, 'agents');
    // A live pid (this test process) and newer than the real agent: it would win if it were trusted.
    const planted = join(dir, `${process.pid}.json`);
    const fake = {
      pid: process.pid,
      port: 1,
      version: '0.1.0',
      protocol: 1,
      startedAt: Date.now() + 60_000,
      secret: 'f'.repeat(32),
    };
    writeFileSync(planted, JSON.stringify(fake), { mode: 0o644 });
    chmodSync(planted, 0o644);
    try {
      const loose = await cli(['whoami']);
      expect(loose.code, loose.stderr).toBe(0);
      expect(loose.stderr).toMatch(
        new RegExp(`ignoring the agent discovery file ${planted}: mode 0644, not 0600`),
      );
      expect(loose.stderr).toContain(`(pid ${ready.pid})`);
      if (process.getuid?.() === 0) {
        chmodSync(planted, 0o600);
        chownSync(planted, 65534, 65534);
        const foreign = await cli(['whoami']);
        expect(foreign.code, foreign.stderr).toBe(0);
        expect(foreign.stderr).toMatch(/owned by uid 65534, not by you \(uid 0\)/);
      }
    } finally {
      rmSync(planted, { force: true });
    }
  });

  it('another KUBECONFIG than the agent: the command keeps to its own view and says why', async () => {
    const other = join(tempDir('rc-pod-other-'), 'other.kubeconfig');
    writeFileSync(other, readFileSync(env.KUBECONFIG ?? '', 'utf8'), { mode: 0o600 });
    const r = await run(process.execPath, [bundle, 'whoami'], { ...env, KUBECONFIG: other });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(
      `agent of your Jupyter server (pid ${ready.pid}) was not used: it reads KUBECONFIG=`,
    );
    const forced = await run(process.execPath, [bundle, 'whoami'], {
      ...env,
      KUBECONFIG: other,
      RAY_CONNECT_AGENT: 'on',
    });
    expect(forced.code, forced.stderr).toBe(0);
  });

  it('RAY_CONNECT_AGENT=off: the command keeps to its own (empty) memory', async () => {
    const r = await run(process.execPath, [bundle, 'whoami'], { ...env, RAY_CONNECT_AGENT: 'off' });
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/sandbox-bare: signed-out/);
  });

  it('with the agent stopped (SIGTERM) its file is gone and the CLI says signed out, with the hint', async () => {
    const exited = new Promise<number | null>((resolve) => agent.on('exit', (code) => resolve(code)));
    agent.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(existsSync(join(configDir, 'agents', `${ready.pid}.json`))).toBe(false);
    const who = await cli(['whoami']);
    expect(who.code).toBe(3);
    expect(who.stdout).toMatch(/sandbox-bare: signed-out/);
    expect(who.stderr).toMatch(/No OS keychain and no running Ray Connect agent here/);
    expect(who.stderr).toContain('RAY_CONNECT_SECRET_STORE=file');
    const clusters = await cli(['clusters']);
    expect(clusters.code).toBe(3);
    expect(clusters.stderr).toMatch(/Not signed in/);
    expect(clusters.stderr).toMatch(/No OS keychain and no running Ray Connect agent here/);
    const login = await cli(
      ['login', '--token-stdin'],
      ((await oidcLogin('alice')) as { idToken: string }).idToken,
    );
    expect(login.code, login.stderr).toBe(0);
    expect(login.stderr).toMatch(/warning: .*this sign-in lasts only while this command runs/);
  });
});
