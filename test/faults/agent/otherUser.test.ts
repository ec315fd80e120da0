// Another local user (uid 65534, "nobody", via setpriv; needs root, as in CI) against the real agent: the
// loopback port is reachable by every local user, so the per-start secret is what keeps them out. They cannot read
// the secret from the agent's environment (/proc/<pid>/environ is owner-only), and without it every call is 401
// and nothing is done. Skipped (with the reason) when not root or setpriv is missing.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Agent, http, startAgent } from './agentClient.js';
import { cliEnv, kubeconfigFor, tempDir } from '../helpers.js';

const setpriv = '/usr/bin/setpriv';
const canSwitch = process.getuid?.() === 0 && existsSync(setpriv);
const asNobody = (args: string[]) =>
  spawnSync(setpriv, ['--reuid=65534', '--regid=65534', '--clear-groups', ...args], {
    encoding: 'utf8',
    timeout: 30_000,
    cwd: '/',
    env: { PATH: process.env.PATH },
  });

describe.skipIf(!canSwitch)('another local user against the agent (setpriv to uid 65534)', () => {
  let agent: Agent;
  let configDir: string;

  beforeAll(async () => {
    const file = join(tempDir(), 'config');
    writeFileSync(file, JSON.stringify(kubeconfigFor({ token: 'placeholder' })));
    // The config dir does not exist yet, under a world-readable parent: the agent creates it.
    const parent = tempDir();
    chmodSync(parent, 0o755);
    configDir = join(parent, 'ray-connect');
    agent = await startAgent(cliEnv(file, { RAY_CONNECT_CONFIG_DIR: configDir }));
  });
  afterAll(async () => {
    agent.child.stdin!.end();
    await agent.exited;
  });

  it('cannot read the secret from the agent process (environ is owner-only)', () => {
    const r = asNobody(['cat', `/proc/${agent.child.pid}/environ`]);
    expect(r.status).not.toBe(0);
    expect(r.stdout).not.toContain(agent.secret);
    expect(r.stderr).toMatch(/Permission denied/);
  });

  it('reaches the port but every call without the secret is 401, and nothing is done', async () => {
    const script = `
      const port = ${agent.port};
      const calls = [
        ['/v1/call/addCluster', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ args: [{ server: 'https://evil.example' }] }) }],
        ['/v1/call/listClusters', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"args":[]}' }],
        ['/v1/events', { method: 'GET' }],
        ['/v1/call/listClusters', { method: 'POST', headers: { authorization: 'Bearer guess', 'content-type': 'application/json' }, body: '{"args":[]}' }],
      ];
      const out = [];
      for (const [path, init] of calls) out.push((await fetch('http://127.0.0.1:' + port + path, init)).status);
      console.log(JSON.stringify(out));`;
    const r = asNobody([process.execPath, '--input-type=module', '-e', script]);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim())).toEqual([401, 401, 401, 401]);
    // Nothing was added: the owner still sees only the kubeconfig cluster.
    const list = await http(agent.port, '/v1/call/listClusters', {
      headers: { authorization: `Bearer ${agent.secret}`, 'content-type': 'application/json' },
      body: '{"args":[]}',
    });
    expect(list.status).toBe(200);
    expect(list.body).not.toContain('evil.example');
  });

  it('cannot read the discovery file that carries the secret (0600 in the 0700 config dir)', () => {
    const file = join(configDir, 'agents', `${agent.child.pid}.json`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const r = asNobody(['cat', file]);
    expect(r.status).not.toBe(0);
    expect(r.stdout).not.toContain(agent.secret);
  });

  it('cannot read the config dir the agent created (0700)', async () => {
    const added = await http(agent.port, '/v1/call/addCluster', {
      headers: { authorization: `Bearer ${agent.secret}`, 'content-type': 'application/json' },
      body: JSON.stringify({ args: [{ server: 'https://owner.example:6443' }] }),
    });
    expect(added.status, added.body).toBe(200);
    expect(statSync(configDir).mode & 0o777).toBe(0o700);
    const r = asNobody(['ls', configDir]);
    expect(r.status).not.toBe(0);
  });
});
