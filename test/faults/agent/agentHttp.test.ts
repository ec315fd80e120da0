// The agent's HTTP API (`ray-connect serve`, the real binary): wrong/missing secret -> 401 and nothing done;
// Origin -> 403; oversized bodies (declared and chunked) -> 413; unknown routes/methods -> 404/405; malformed
// bodies and args -> 4xx with a JSON error and no stack; the agent keeps serving; it exits when stdin closes.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Agent, http, startAgent } from './agentClient.js';
import { cliBin, cliEnv, hasStackTrace, kubeconfigFor, tempDir } from '../helpers.js';

describe('agent HTTP API refuses what it must', () => {
  let agent: Agent;
  const auth = () => ({ authorization: `Bearer ${agent.secret}`, 'content-type': 'application/json' });
  const call = (method: string, args: unknown[] = [], headers = auth()) =>
    http(agent.port, `/v1/call/${method}`, { headers, body: JSON.stringify({ args }) });

  beforeAll(async () => {
    const dir = tempDir();
    const file = join(dir, 'config');
    writeFileSync(file, JSON.stringify(kubeconfigFor({ token: 'placeholder' })));
    agent = await startAgent(cliEnv(file));
  });
  afterAll(async () => {
    agent.child.stdin!.end();
    await agent.exited;
  });

  const clusterIds = async () => {
    const r = await call('listClusters');
    expect(r.status).toBe(200);
    return (JSON.parse(r.body) as { result: { id: string }[] }).result.map((c) => c.id);
  };

  it('control: the right secret works', async () => {
    expect((await clusterIds()).length).toBe(1);
    const v = await http(agent.port, '/v1/version', { method: 'GET', headers: auth() });
    expect(v.status).toBe(200);
  });

  it.each<[string, Record<string, string>]>([
    ['no Authorization', { 'content-type': 'application/json' }],
    ['empty Authorization', { authorization: '' }],
    ['wrong secret', { authorization: 'Bearer wrong-secret-wrong-secret' }],
    ['secret without Bearer', { authorization: 'SECRET' }],
    ['lower-case bearer', { authorization: 'bearer SECRET' }],
    ['secret with a suffix', { authorization: 'Bearer SECRETx' }],
    ['secret prefix only', { authorization: 'Bearer SECRET_PREFIX' }],
    ['Basic auth with the secret', { authorization: 'Basic SECRET_B64' }],
    ['secret in another header', { 'x-agent-secret': 'SECRET' }],
  ])('%s -> 401, nothing done', async (_label, rawHeaders) => {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(rawHeaders))
      headers[k] = v
        .replace('SECRET_PREFIX', agent.secret.slice(0, 16))
        .replace('SECRET_B64', Buffer.from(`x:${agent.secret}`).toString('base64'))
        .replace('SECRET', agent.secret);
    const before = await clusterIds();
    const add = await http(agent.port, '/v1/call/addCluster', {
      headers,
      body: JSON.stringify({ args: [{ server: 'https://evil.example:6443' }] }),
    });
    expect(add.status).toBe(401);
    expect(add.body).not.toContain(agent.secret);
    expect((await http(agent.port, '/v1/events', { method: 'GET', headers })).status).toBe(401);
    expect((await http(agent.port, '/v1/version', { method: 'GET', headers })).status).toBe(401);
    expect(await clusterIds()).toEqual(before);
  });

  it('secret in the query string -> 401', async () => {
    const r = await http(agent.port, `/v1/call/addCluster?secret=${agent.secret}&token=${agent.secret}`, {
      body: JSON.stringify({ args: [{ server: 'https://evil.example:6443' }] }),
    });
    expect(r.status).toBe(401);
  });

  it.each(['http://evil.example', 'null', 'http://127.0.0.1:8888', ''])(
    'Origin %j -> 403 even with the secret, nothing done',
    async (origin) => {
      const before = await clusterIds();
      const r = await http(agent.port, '/v1/call/addCluster', {
        headers: { ...auth(), origin },
        body: JSON.stringify({ args: [{ server: 'https://evil.example:6443' }] }),
      });
      expect(r.status).toBe(403);
      expect(
        (await http(agent.port, '/v1/events', { method: 'GET', headers: { ...auth(), origin } })).status,
      ).toBe(403);
      expect(await clusterIds()).toEqual(before);
    },
  );

  it('body over 1 MiB (declared Content-Length) -> 413, nothing done', async () => {
    const before = await clusterIds();
    const big = JSON.stringify({
      args: [{ server: 'https://evil.example:6443', name: 'x'.repeat(1024 * 1024 + 10) }],
    });
    const r = await http(agent.port, '/v1/call/addCluster', { headers: auth(), body: big });
    expect([413, -1]).toContain(r.status);
    expect(await clusterIds()).toEqual(before);
  });

  it('body over 1 MiB sent chunked (no Content-Length) -> 413, nothing done, agent still serving', async () => {
    const before = await clusterIds();
    const chunks = [
      Buffer.from('{"args":[{"server":"https://evil.example:6443","name":"'),
      ...Array.from({ length: 40 }, () => Buffer.alloc(64 * 1024, 'x')),
      Buffer.from('"}]}'),
    ];
    const r = await http(agent.port, '/v1/call/addCluster', {
      headers: { ...auth(), 'transfer-encoding': 'chunked' },
      chunks,
    });
    expect([413, -1]).toContain(r.status);
    expect(await clusterIds()).toEqual(before);
  });

  it('a lying Content-Length (small declared, big body) does not get past the limit', async () => {
    const before = await clusterIds();
    const r = await http(agent.port, '/v1/call/addCluster', {
      headers: { ...auth(), 'content-length': '10' },
      body: 'x'.repeat(2 * 1024 * 1024),
    }).catch(() => ({ status: -1, body: '', headers: {} }));
    expect(r.status).not.toBe(200);
    expect(await clusterIds()).toEqual(before);
  });

  it.each<[string, string, string, number[]]>([
    ['unknown method', 'POST', '/v1/call/deleteEverything', [404]],
    ['onEvent is not callable', 'POST', '/v1/call/onEvent', [404]],
    ['prototype name', 'POST', '/v1/call/constructor', [404]],
    ['__proto__', 'POST', '/v1/call/__proto__', [404]],
    ['toString', 'POST', '/v1/call/toString', [404]],
    ['unknown path', 'GET', '/admin', [404]],
    ['path traversal', 'GET', '/v1/call/../../etc/passwd', [404]],
    ['root', 'GET', '/', [404]],
    ['GET on a call', 'GET', '/v1/call/listClusters', [404, 405]],
    ['DELETE on a call', 'DELETE', '/v1/call/signOut', [404, 405]],
    ['POST on version', 'POST', '/v1/version', [404, 405]],
    ['PUT on events', 'PUT', '/v1/events', [404, 405]],
  ])('%s (%s %s) -> refused', async (_label, method, path, statuses) => {
    const r = await http(agent.port, path, {
      method,
      headers: auth(),
      body: method === 'GET' ? undefined : '{}',
    });
    expect(statuses).toContain(r.status);
    expect(hasStackTrace(r.body)).toBe(false);
  });

  it.each<[string, string]>([
    ['not JSON', '{"args": ['],
    ['JSON null', 'null'],
    ['args is an object', '{"args": {"length": 1}}'],
    ['args is a string', '{"args": "abc"}'],
    ['args null', '{"args": null}'],
    ['a JSON string body', '"hello"'],
    ['a JSON list body', '[1, 2]'],
    ['a JSON number body', '42'],
    ['binary', '\u0000\u0001\u00ff'],
  ])('malformed body: %s -> 400 JSON error', async (_label, body) => {
    const r = await http(agent.port, '/v1/call/listRayClusters', { headers: auth(), body });
    expect(r.status).toBe(400);
    const parsed = JSON.parse(r.body) as { error: { code: string } };
    expect(parsed.error.code).toBe('BAD_REQUEST');
  });

  it.each<[string, string, unknown[]]>([
    ['connect with a number', 'connect', [42]],
    ['connect with null', 'connect', [null]],
    ['checkAccess with a ref missing fields', 'checkAccess', [{ clusterId: 'nope' }]],
    ['sessionEnv with an array', 'sessionEnv', [[1, 2, 3]]],
    ['addCluster with a non-URL', 'addCluster', [{ server: 'javascript:alert(1)' }]],
    ['addCluster with no input', 'addCluster', []],
    ['setNamespaces with objects', 'setNamespaces', ['context:f', [{ a: 1 }]]],
    ['setNamespaces with a hostile name', 'setNamespaces', ['context:f', ['../../etc']]],
    ['completeSignIn with an unknown id', 'completeSignIn', ['no-such-login']],
    ['finishBrowserSignIn with a number', 'finishBrowserSignIn', [42]],
    ['finishBrowserSignIn with no sign-in', 'finishBrowserSignIn', ['http://x/cb?code=c&state=s']],
    ['removeCluster of an unknown id', 'removeCluster', ['url:https://nope:1']],
    [
      'rayToken of a cluster never listed',
      'rayToken',
      [{ clusterId: 'context:f', namespace: 'x', name: 'y' }],
    ],
  ])(
    'wrong argument types: %s -> an error JSON, no stack, agent still serving',
    async (_label, method, args) => {
      const r = await call(method, args);
      if (r.status !== 200) {
        expect(r.status).toBeGreaterThanOrEqual(400);
        const parsed = JSON.parse(r.body) as { error: { code: string; message: string } };
        expect(typeof parsed.error.code).toBe('string');
        expect(hasStackTrace(parsed.error.message)).toBe(false);
      }
      expect(hasStackTrace(r.body)).toBe(false);
      expect((await clusterIds()).length).toBeGreaterThan(0);
    },
  );

  it('the agent wrote no stack trace to stderr during all of this', () => {
    expect(hasStackTrace(agent.stderr()), agent.stderr()).toBe(false);
  });
});

describe('agent lifecycle', () => {
  const kubeconfig = () => {
    const file = join(tempDir(), 'config');
    writeFileSync(file, JSON.stringify(kubeconfigFor({ token: 'placeholder' })));
    return file;
  };

  it('refuses to start without a secret or with a short one (non-zero exit, no stack)', async () => {
    for (const secret of ['', 'short']) {
      const env = { ...cliEnv(kubeconfig()), RAY_CONNECT_AGENT_SECRET: secret };
      const child = spawn(process.execPath, [cliBin, 'serve', '--port', '0'], {
        env,
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let err = '';
      child.stderr.on('data', (c) => (err += c));
      const code = await new Promise<number | null>((r) => child.on('exit', r));
      expect(code, err).not.toBe(0);
      expect(hasStackTrace(err)).toBe(false);
    }
  });

  it('the secret is not in argv and is not inherited by what the agent starts', async () => {
    const agent = await startAgent(cliEnv(kubeconfig()));
    const { readFileSync } = await import('node:fs');
    const cmdline = readFileSync(`/proc/${agent.child.pid}/cmdline`, 'utf8');
    expect(cmdline).not.toContain(agent.secret);
    agent.child.stdin!.end();
    expect(await agent.exited).toBe(0);
  });

  it('exits when its stdin closes, with an open SSE stream, and stops listening', async () => {
    const agent = await startAgent(cliEnv(kubeconfig()));
    const sse = http(agent.port, '/v1/events', {
      method: 'GET',
      headers: { authorization: `Bearer ${agent.secret}` },
    });
    await new Promise((r) => setTimeout(r, 200));
    agent.child.stdin!.end();
    expect(await agent.exited).toBe(0);
    await sse; // the stream ends rather than hangs
    await expect(
      http(agent.port, '/v1/version', {
        method: 'GET',
        headers: { authorization: `Bearer ${agent.secret}` },
      }),
    ).rejects.toThrow();
  });

  it('exits on SIGTERM', async () => {
    const agent = await startAgent(cliEnv(kubeconfig()));
    // after its SIGTERM handler is surely in place (killed before it, Node's default action ends it anyway)
    await new Promise((r) => setTimeout(r, 500));
    agent.child.kill('SIGTERM');
    expect(await agent.exited, 'handled: closed everything and exited 0 (stdin still open)').toBe(0);
  });
});
