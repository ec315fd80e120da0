// The agent (`ray-connect serve`, from the esbuild bundle the JupyterLab package ships) against the sandbox:
// ready line, secret required, calls, SSE events, a real connection and its env, exit when stdin closes.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentReady, ClusterSummary, ConnectionSummary, SessionEnv } from '../../../shared/src/index.js';
import { cliEnv, sandbox, userKubeconfig } from '../ray/helpers.js';

const bundle = new URL('../../../packages/cli/dist/ray-connect.mjs', import.meta.url).pathname;

describe('ray-connect serve (bundled agent, sandbox)', () => {
  const s = sandbox();
  const secret = randomBytes(24).toString('hex');
  let child: ReturnType<typeof spawn>;
  let ready: AgentReady;
  let stderr = '';

  function call<T>(
    method: string,
    args: unknown[],
    auth = secret,
  ): Promise<{ status: number; body: { result?: T; error?: { code: string } } }> {
    return new Promise((resolve, reject) => {
      const body = JSON.stringify({ args });
      const req = request(
        {
          host: '127.0.0.1',
          port: ready.port,
          path: `/v1/call/${method}`,
          method: 'POST',
          headers: { authorization: `Bearer ${auth}`, 'content-type': 'application/json' },
        },
        (res) => {
          let text = '';
          res.on('data', (c) => (text += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  beforeAll(async () => {
    expect(existsSync(bundle), 'run pnpm --filter @ray-connect/cli build first').toBe(true);
    const env = { ...cliEnv(await userKubeconfig('alice')), RAY_CONNECT_AGENT_SECRET: secret };
    delete env.RAY_CONNECT_SECRET_STORE; // default: keychain, which falls back to memory here (no module/D-Bus)
    child = spawn(process.execPath, [bundle, 'serve'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    child.stderr?.on('data', (c) => (stderr += c));
    ready = await new Promise<AgentReady>((resolve, reject) => {
      let out = '';
      child.stdout?.on('data', (c) => {
        out += c;
        if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0] ?? '{}') as AgentReady);
      });
      child.on('exit', (code) => reject(new Error(`agent exited ${code}: ${stderr}`)));
    });
  });
  afterAll(() => {
    if (child.exitCode === null) child.kill();
  });

  it('prints one AgentReady line', () => {
    expect(ready).toMatchObject({ ready: true, protocol: 1, pid: child.pid });
    expect(ready.port).toBeGreaterThan(0);
  });

  it('refuses a wrong secret with 401', async () => {
    expect((await call('listClusters', [], 'wrong')).status).toBe(401);
  });

  it('lists clusters, connects, hands out env, and streams events', async () => {
    const events: string[] = [];
    const sse = request(
      {
        host: '127.0.0.1',
        port: ready.port,
        path: '/v1/events',
        headers: { authorization: `Bearer ${secret}` },
      },
      (res) => {
        res.on('data', (c: Buffer) => events.push(c.toString()));
      },
    );
    sse.on('error', () => undefined);
    sse.end();

    const clusters = await call<ClusterSummary[]>('listClusters', []);
    expect(clusters.status).toBe(200);
    const cluster = clusters.body.result?.[0];
    expect(cluster?.storage.kind).toBe('memory');
    const ref = { clusterId: cluster?.id, namespace: s.namespace, name: s.rayClusters.rbac };
    const connected = await call<ConnectionSummary>('connect', [ref]);
    expect(connected.status, JSON.stringify(connected.body)).toBe(200);
    expect(connected.body.result?.state).toBe('ready');
    const env = await call<SessionEnv>('sessionEnv', [ref]);
    expect(env.body.result?.env.RAY_AUTH_MODE).toBe('token');
    expect(env.body.result?.env.RAY_ADDRESS).toBe(connected.body.result?.dashboardUrl);
    await expect.poll(() => events.join('')).toContain('"type":"connection-changed"');
    const gone = await call('disconnect', [ref]);
    expect(gone.status).toBe(200);
    sse.destroy();
  });

  it('exits when its stdin closes', async () => {
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.stdin?.end();
    expect(await exited).toBe(0);
  });
});
