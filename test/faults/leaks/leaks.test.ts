// Leak search: sign in (pasted token and device flow as alice), list, connect, refresh, sign out, with logging
// at its most verbose level; then search everything written for every token and refresh token issued:
// the Logger's output, every file under the temp HOME / config dirs, URLs opened, error messages, events, the
// facade's and agent's answers other than rayToken/sessionEnv, the CLI's stdout/stderr and /proc/<pid>/cmdline.
/* eslint-disable @typescript-eslint/no-explicit-any -- hostile input of any shape, untyped JSON answers */
import { type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type Clock,
  createRayConnect,
  FakeBrowser,
  MemoryLogger,
  MemorySecretStore,
  type RayConnect,
  systemClock,
} from '../../../packages/core/src/index.js';
import { approveDevice, createToken, oidcLogin } from '../../sandbox/client.mjs';
import { startAgent, http, type Agent } from '../agent/agentClient.js';
import { cli, cliEnv, sandbox, tempDir } from '../helpers.js';

const s = sandbox();

/** Every file under dir (recursively), with its text. */
function filesUnder(
  dir: string,
  skip: (path: string) => boolean = () => false,
): { path: string; text: string }[] {
  const out: { path: string; text: string }[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      let st;
      try {
        st = statSync(p);
      } catch {
        continue;
      }
      if (st.isDirectory()) walk(p);
      else if (st.isFile() && !skip(p)) out.push({ path: p, text: readFileSync(p, 'latin1') });
    }
  };
  walk(dir);
  return out;
}

/** Every place a secret occurs: [where, which secret (first chars only)]. */
function occurrences(haystacks: { where: string; text: string }[], secrets: Iterable<string>): string[] {
  const found: string[] = [];
  for (const secret of secrets) {
    if (secret.length < 12) continue;
    for (const h of haystacks) {
      // the whole secret, and for JWTs also the signature part alone
      const needles = [secret, ...(secret.split('.').length === 3 ? [secret.split('.')[2]!] : [])].filter(
        (n) => n.length >= 12,
      );
      if (needles.some((n) => h.text.includes(n))) found.push(`${h.where}: ${secret.slice(0, 6)}...`);
    }
  }
  return found;
}

function kubeconfigWithoutUser(dir: string): string {
  const file = join(dir, 'config');
  writeFileSync(
    file,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      'current-context': 'leak',
      clusters: [{ name: 'sandbox', cluster: { server: s.apiServer, 'certificate-authority': s.caFile } }],
      users: [{ name: 'nobody', user: {} }],
      contexts: [{ name: 'leak', context: { cluster: 'sandbox', user: 'nobody', namespace: s.namespace } }],
    }),
    { mode: 0o600 },
  );
  return file;
}

describe('no token leaks: core facade (device flow, token sign-in, connect, refresh, sign-out)', () => {
  const logger = new MemoryLogger();
  const browser = new FakeBrowser();
  const store = new MemorySecretStore();
  const secrets = new Set<string>();
  const said: { where: string; text: string }[] = [];
  let offset = 0;
  const clock: Clock = {
    now: () => systemClock.now() + offset,
    sleep: (ms, sig) => systemClock.sleep(ms, sig),
  };
  const home = tempDir('rc-leak-home-');
  const configDir = tempDir('rc-leak-cfg-');
  let api: RayConnect;

  const harvest = async () => {
    for (const key of await store.keys('')) {
      const v = await store.get(key);
      if (v) secrets.add(v.reveal());
    }
  };
  const record = (where: string, v: unknown) => said.push({ where, text: JSON.stringify(v) ?? '' });

  afterAll(async () => {
    await api?.close();
  });

  it('runs the whole life cycle and nothing but the token endpoints shows a token', async () => {
    api = createRayConnect({
      store,
      logger,
      clock,
      browser,
      configDir,
      homedir: home,
      env: { KUBECONFIG: kubeconfigWithoutUser(home), HOME: home, XDG_CONFIG_HOME: join(home, '.config') },
      oidc: { issuer: s.oidc.issuer, clientId: s.oidc.clientId, caFile: s.oidc.caFile },
      version: 'leak',
      watchIntervalMs: 500,
    });
    api.onEvent((e) => record('event', e));
    const clusterId = (await api.listClusters())[0]!.id;

    // 1. device flow as alice
    const progress = await api.beginSignIn(clusterId, { method: 'device' });
    record('beginSignIn', progress);
    if (progress.kind !== 'device') throw new Error(`expected a device flow, got ${progress.kind}`);
    await approveDevice({ userCode: progress.userCode, user: 'alice' });
    record('completeSignIn', await api.completeSignIn(progress.loginId));
    await harvest();
    expect(secrets.size).toBeGreaterThanOrEqual(2); // id_token + refresh token

    // 2. list, check, connect (token mode and RBAC mode: alice's own token is the Ray token)
    record('listClusters', await api.listClusters());
    const list = await api.listRayClusters(clusterId);
    record('listRayClusters', list);
    const find = (key: string) => list.items.find((i) => i.name === s.rayClusters[key])!;
    for (const key of ['token', 'rbac']) {
      record(`checkAccess ${key}`, await api.checkAccess(find(key)));
      record(`connect ${key}`, await api.connect(find(key)));
      const env = await api.sessionEnv(find(key)); // allowed to hold the token; its values are secrets to look for
      if (env.env.RAY_AUTH_TOKEN) secrets.add(env.env.RAY_AUTH_TOKEN);
      if (env.env.RAY_AUTH_TOKEN_PATH) secrets.add(readFileSync(env.env.RAY_AUTH_TOKEN_PATH, 'utf8').trim());
      const t = await api.rayToken(find(key));
      secrets.add(t.token);
    }
    record('listConnections', await api.listConnections());

    // 3. refresh: move our clock near the id_token's expiry; the next use refreshes (rotating the refresh token)
    const before = new Set(secrets);
    offset = 9 * 60_000;
    record('listRayClusters after refresh', await api.listRayClusters(clusterId));
    const rbacAfter = await api.rayToken(find('rbac'));
    secrets.add(rbacAfter.token);
    await harvest();
    expect(secrets.size, 'a refresh issued new tokens').toBeGreaterThan(before.size);
    offset = 0;

    // 4. errors on the way (a wrong namespace, a cluster that does not exist) carry no token
    record(
      'error',
      await api
        .connect({ clusterId, namespace: s.namespace, name: 'no-such' })
        .catch((e) => ({ m: String(e), i: e.toInfo?.() })),
    );
    record('error', await api.listRayClusters(clusterId, ['kube-system']).catch((e) => String(e)));

    // 5. a pasted token sign-in (a ServiceAccount token), then sign out
    const sa = await createToken(s.namespace, 'ray-user', { expirationSeconds: 600 });
    secrets.add(sa);
    const pasted = await api.beginSignIn(clusterId, { method: 'token', token: sa });
    record('beginSignIn token', pasted);
    record('disconnect', await api.disconnect(find('token')));
    record('signOut', await api.signOut(clusterId));
    record('listClusters after signOut', await api.listClusters());
    expect(await store.keys(''), 'sign-out removed every secret').toEqual([]);

    const verbose = logger.lines.filter((l) => l.level === 'debug' || l.level === 'trace').length;
    expect(verbose, 'the logger saw debug output').toBeGreaterThan(0);
    const haystacks = [
      ...logger.lines.map((l, i) => ({
        where: `log[${i}] ${l.message}`,
        text: `${l.message} ${JSON.stringify(l.fields ?? {})}`,
      })),
      ...browser.opened.map((u) => ({ where: 'browser', text: u })),
      ...said,
      ...filesUnder(home).map((f) => ({ where: f.path, text: f.text })),
      ...filesUnder(configDir).map((f) => ({ where: f.path, text: f.text })),
    ];
    expect(occurrences(haystacks, secrets)).toEqual([]);
  });
});

describe('no token leaks: CLI and agent', () => {
  it('CLI: login --token-stdin, whoami, clusters, connect, logout with RAY_CONNECT_DEBUG=1: no token in output, files or argv', async () => {
    const home = tempDir('rc-leak-cli-home-');
    const sa = await createToken(s.namespace, 'ray-user', { expirationSeconds: 600 });
    const env = {
      ...cliEnv(kubeconfigWithoutUser(home)),
      HOME: home,
      XDG_CONFIG_HOME: join(home, '.config'),
      RAY_CONNECT_CONFIG_DIR: join(home, '.config', 'ray-connect'),
      RAY_CONNECT_SECRET_STORE: 'file',
      RAY_CONNECT_DEBUG: '1',
    };
    const outputs: { where: string; text: string }[] = [];
    const runs = [
      ['login', '--token-stdin'],
      ['whoami'],
      ['clusters'],
      ['connect', 'no-such-cluster'],
      ['logout'],
    ];
    for (const args of runs) {
      const r = await cli(args, env, args[1] === '--token-stdin' ? `${sa}\n` : undefined);
      outputs.push(
        { where: `${args.join(' ')} stdout`, text: r.stdout },
        { where: `${args.join(' ')} stderr`, text: r.stderr },
      );
      if (args[0] === 'login') expect(r.code, r.stderr).toBe(0);
    }
    // RAY_CONNECT_DEBUG=1 is the most verbose level: info/debug lines (and stacks) go to stderr
    expect(
      outputs.some((o) => /ray-connect: (debug|info):/.test(o.text)),
      'verbose logging was on',
    ).toBe(true);
    // the opt-in file store is where the token is meant to be (and logout empties it); everything else is searched
    const files = filesUnder(home, (p) => /secrets?\.json$/.test(p));
    expect(occurrences([...outputs, ...files.map((f) => ({ where: f.path, text: f.text }))], [sa])).toEqual(
      [],
    );
    const store = filesUnder(home).filter((f) => /secrets?\.json$/.test(f.path));
    for (const f of store)
      expect(f.text.includes(sa), `${f.path} still holds the token after logout`).toBe(false);
  });

  it('agent: device sign-in, connect, events, sign-out with RAY_CONNECT_DEBUG=1: only rayToken/sessionEnv carry a token', async () => {
    const home = tempDir('rc-leak-agent-home-');
    const env = {
      ...cliEnv(kubeconfigWithoutUser(home)),
      HOME: home,
      XDG_CONFIG_HOME: join(home, '.config'),
      RAY_CONNECT_CONFIG_DIR: join(home, '.config', 'ray-connect'),
      RAY_CONNECT_SECRET_STORE: 'file',
      RAY_CONNECT_DEBUG: '1',
      RAY_CONNECT_OIDC_ISSUER: s.oidc.issuer,
      RAY_CONNECT_OIDC_CLIENT_ID: s.oidc.clientId,
      RAY_CONNECT_OIDC_CA_FILE: s.oidc.caFile,
    };
    const agent: Agent = await startAgent(env);
    const said: { where: string; text: string }[] = [];
    const secrets = new Set<string>();
    const auth = { authorization: `Bearer ${agent.secret}`, 'content-type': 'application/json' };
    const call = async (method: string, args: unknown[] = [], keep = true) => {
      const r = await http(agent.port, `/v1/call/${method}`, {
        headers: auth,
        body: JSON.stringify({ args }),
      });
      if (keep) said.push({ where: `agent ${method}`, text: r.body });
      return JSON.parse(r.body) as { result?: any; error?: any };
    };
    // SSE events, collected for the whole run
    let events = '';
    const { request } = await import('node:http');
    const sse = request(
      { host: '127.0.0.1', port: agent.port, path: '/v1/events', headers: auth, agent: false },
      (res) => res.on('data', (c) => (events += c)),
    );
    sse.on('error', () => undefined);
    sse.end();
    const cmdlines = () => {
      const pids = [agent.child.pid!, ...childPids(agent.child.pid!)];
      return pids.map((p) => ({ where: `/proc/${p}/cmdline`, text: safeRead(`/proc/${p}/cmdline`) }));
    };
    try {
      const clusterId = (await call('listClusters')).result[0].id as string;
      const progress = (await call('beginSignIn', [clusterId, { method: 'device' }])).result;
      expect(progress.kind).toBe('device');
      await approveDevice({ userCode: progress.userCode, user: 'alice' });
      expect((await call('completeSignIn', [progress.loginId])).result.status).toBe('signed-in');
      const list = (await call('listRayClusters', [clusterId])).result;
      const rbac = list.items.find((i: { name: string }) => i.name === s.rayClusters.rbac);
      const tok = list.items.find((i: { name: string }) => i.name === s.rayClusters.token);
      for (const item of [rbac, tok]) {
        await call('checkAccess', [item]);
        expect((await call('connect', [item])).result.state).toBe('ready');
        secrets.add((await call('rayToken', [item], false)).result.token);
        const envs = (await call('sessionEnv', [item], false)).result;
        if (envs.env.RAY_AUTH_TOKEN) secrets.add(envs.env.RAY_AUTH_TOKEN);
        if (envs.env.RAY_AUTH_TOKEN_PATH)
          secrets.add(readFileSync(envs.env.RAY_AUTH_TOKEN_PATH, 'utf8').trim());
      }
      await call('listConnections');
      const argv = cmdlines();
      // the file store (opt-in) holds the id_token and refresh token: read them to know what to look for
      for (const f of filesUnder(home).filter((x) => /secrets?\.json$/.test(x.path))) {
        for (const m of f.text.matchAll(/"([A-Za-z0-9._~+/=-]{20,})"/g)) secrets.add(m[1]!);
      }
      await call('connect', [{ clusterId, namespace: s.namespace, name: 'no-such' }]);
      await call('signOut', [clusterId]);
      await call('listClusters');
      expect(secrets.size).toBeGreaterThanOrEqual(3);
      const files = filesUnder(home, (p) => /secrets?\.json$/.test(p));
      const haystacks = [
        ...said,
        { where: 'events', text: events },
        { where: 'agent stderr', text: agent.stderr() },
        { where: 'agent stdout', text: agent.stdout() },
        ...argv,
        ...files.map((f) => ({ where: f.path, text: f.text })),
      ];
      expect(agent.stderr()).toMatch(/debug/);
      expect(occurrences(haystacks, secrets)).toEqual([]);
    } finally {
      sse.destroy();
      agent.child.stdin!.end();
      await agent.exited;
    }
  });
});

function safeRead(p: string): string {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return '';
  }
}

function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const stat = safeRead(`/proc/${d}/stat`);
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid === pid) out.push(Number(d), ...childPids(Number(d)));
  }
  return out;
}
void (null as unknown as ChildProcess);
void oidcLogin;
