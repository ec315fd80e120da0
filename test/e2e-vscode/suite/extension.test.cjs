// Extension tests in the real extension host, against the sandbox (see ../README.md). CommonJS: VS Code loads it.
const vscode = require('vscode');
const fs = require('node:fs');
const path = require('node:path');
const os = require('node:os');
const assert = require('node:assert/strict');
const {
  EXTENSION_ID,
  CLUSTER,
  sandbox,
  waitFor,
  rayConnect,
  nodes,
  clusterNode,
  run,
  inNewTerminal,
  findFiles,
  parseEnv,
  secretKeysOf,
  addSecret,
  harvestSecrets,
  leakSearch,
} = require('./lib.cjs');

/** Every secret issued or used during the run, for the leak search at the end: in memory only, never written. */
function secretsOf(ctx) {
  ctx.state.secrets ??= new Set();
  return ctx.state.secrets;
}

function expectedAuthLabel(key) {
  return {
    token: 'token auth',
    secretName: 'token auth',
    rbac: 'Kubernetes RBAC',
    legacy: 'token auth',
    noauth: 'no auth',
    emptyAuth: 'no auth',
  }[key];
}

exports.tests = [
  {
    name: 'activates lazily and shows the kubeconfig cluster signed out',
    fn: async (ctx) => {
      const ext = vscode.extensions.getExtension(EXTENSION_ID);
      assert.ok(ext);
      const started = Date.now();
      const exports = await rayConnect();
      ctx.log(`activation + first listing took ${Date.now() - started} ms (informational)`);
      assert.equal(exports.fake, false, 'the extension runs the real core, not demo data');
      const c = await waitFor('the sandbox cluster in the tree', () => clusterNode(exports));
      assert.equal(c.contextValue, 'cluster.signedOut', `cluster row: ${c.label} ${c.description}`);
    },
  },
  {
    name: 'sign in with a token (ServiceAccount ray-user)',
    timeoutMs: 90000,
    fn: async (ctx) => {
      const exports = await rayConnect();
      const { createToken, readSandbox } = await sandbox(ctx.config);
      const env = readSandbox();
      const token = await createToken(env.namespace, env.serviceAccounts.rayUser.name);
      addSecret(secretsOf(ctx), token);
      await run(exports, 'rayConnect.signInToken', CLUSTER, { token });
      const c = await waitFor(
        'signed in',
        () => clusterNode(exports)?.contextValue === 'cluster.signedIn' && clusterNode(exports),
      );
      assert.match(c.description, /ray-user/);
      await harvestSecrets(exports, secretsOf(ctx));
      assert.ok(
        (await secretKeysOf(exports)).length > 0 || (await exports.secretKeys()).length > 0,
        'the sign-in is kept in SecretStorage',
      );
    },
  },
  {
    name: 'the tree lists every sandbox RayCluster with its auth mode',
    needsPrevious: true,
    fn: async (ctx) => {
      const exports = await rayConnect();
      const { readSandbox } = await sandbox(ctx.config);
      const env = readSandbox();
      const rays = await waitFor('Ray clusters listed', () => {
        const r = nodes(exports).filter((n) => n.kind === 'rayCluster');
        return r.length >= Object.keys(env.rayClusters).length && r;
      });
      for (const [key, name] of Object.entries(env.rayClusters)) {
        const node = rays.find((r) => r.label === name);
        assert.ok(node, `RayCluster ${name} is in the tree (tree: ${rays.map((r) => r.label).join(', ')})`);
        assert.ok(
          node.description.startsWith(expectedAuthLabel(key)),
          `${name}: "${node.description}" starts with "${expectedAuthLabel(key)}"`,
        );
      }
      ctx.state.rays = rays.map((r) => `${r.label}: ${r.description}`);
      ctx.log(`tree: ${ctx.state.rays.join('; ')}`);
    },
  },
  {
    name: 'connect: a new terminal has RAY_AUTH_TOKEN and RAY_ADDRESS, and `ray job submit` succeeds from it',
    needsPrevious: true,
    timeoutMs: 240000,
    fn: async (ctx) => {
      const exports = await rayConnect();
      const { readSandbox } = await sandbox(ctx.config);
      const env = readSandbox();
      const ref = { clusterId: CLUSTER, namespace: env.namespace, name: env.rayClusters.token };
      await run(exports, 'rayConnect.connect', ref);
      await waitFor('connected row', () =>
        nodes(exports).find((n) => n.label === ref.name && n.contextValue === 'rayCluster.connected'),
      );
      assert.ok(
        exports.terminalEnvNames().includes('RAY_ADDRESS'),
        `env collection: ${exports.terminalEnvNames()}`,
      );
      const shown = await inNewTerminal(ctx, "env | grep '^RAY_'");
      const termEnv = parseEnv(shown.output);
      assert.match(
        termEnv.RAY_ADDRESS ?? '',
        /^http:\/\/127\.0\.0\.1:\d+$/,
        `terminal env: ${Object.keys(termEnv)}`,
      );
      assert.equal(termEnv.RAY_AUTH_MODE, 'token');
      assert.ok(
        (termEnv.RAY_AUTH_TOKEN ?? '').length > 8 || (termEnv.RAY_AUTH_TOKEN_PATH ?? '').length > 0,
        'the terminal has the Ray token',
      );
      ctx.state.rayToken = termEnv.RAY_AUTH_TOKEN;
      addSecret(secretsOf(ctx), termEnv.RAY_AUTH_TOKEN);
      if (termEnv.RAY_AUTH_TOKEN_PATH && fs.existsSync(termEnv.RAY_AUTH_TOKEN_PATH))
        addSecret(secretsOf(ctx), fs.readFileSync(termEnv.RAY_AUTH_TOKEN_PATH, 'utf8').trim());
      await harvestSecrets(exports, secretsOf(ctx));
      const job = await inNewTerminal(ctx, `${ctx.config.rayBin} job submit -- python -c "print(40 + 2)"`, {
        timeoutMs: 200000,
      });
      fs.writeFileSync(path.join(ctx.config.workDir, 'ray-job-submit.log'), job.output);
      assert.equal(
        job.code,
        0,
        `ray job submit exit code (output in ray-job-submit.log): ${job.output.slice(-800)}`,
      );
      assert.match(job.output, /42/);
      assert.match(job.output, /succeeded/i);
    },
  },
  {
    name: 'disconnect removes only what it set from the terminal env; connect again',
    needsPrevious: true,
    timeoutMs: 120000,
    fn: async (ctx) => {
      const exports = await rayConnect();
      const { readSandbox } = await sandbox(ctx.config);
      const env = readSandbox();
      const ref = { clusterId: CLUSTER, namespace: env.namespace, name: env.rayClusters.token };
      await run(exports, 'rayConnect.disconnect', ref);
      await waitFor('ready row again', () =>
        nodes(exports).find((n) => n.label === ref.name && n.contextValue === 'rayCluster.ready'),
      );
      assert.deepEqual(exports.terminalEnvNames(), []);
      await run(exports, 'rayConnect.connect', ref);
      await waitFor('connected row', () =>
        nodes(exports).find((n) => n.label === ref.name && n.contextValue === 'rayCluster.connected'),
      );
      assert.ok(
        exports.terminalEnvNames().includes('RAY_AUTH_TOKEN'),
        `env collection: ${exports.terminalEnvNames()}`,
      );
      // The token of the second connection (the same or a new one).
      const again = parseEnv((await inNewTerminal(ctx, "env | grep '^RAY_'")).output);
      addSecret(secretsOf(ctx), again.RAY_AUTH_TOKEN);
      await harvestSecrets(exports, secretsOf(ctx));
    },
  },
  {
    name: 'sign out clears the terminal env and the stored secrets',
    needsPrevious: true,
    timeoutMs: 90000,
    fn: async (ctx) => {
      const exports = await rayConnect();
      await harvestSecrets(exports, secretsOf(ctx));
      await run(exports, 'rayConnect.signOut', CLUSTER);
      await waitFor('signed out', () => clusterNode(exports)?.contextValue === 'cluster.signedOut');
      assert.deepEqual(exports.terminalEnvNames(), []);
      assert.deepEqual(await secretKeysOf(exports), []);
      const shown = await inNewTerminal(ctx, "env | grep '^RAY_' || true");
      assert.equal(parseEnv(shown.output).RAY_AUTH_TOKEN, undefined, 'a new terminal has no RAY_AUTH_TOKEN');
      // The extension's log (Output > Ray Connect) never contains the Ray token.
      const logs = findFiles(path.join(ctx.config.workDir, 'server'), (f) => f.endsWith('Ray Connect.log'));
      assert.ok(logs.length > 0, 'the Ray Connect log exists');
      for (const f of logs) {
        if (ctx.state.rayToken)
          assert.ok(!fs.readFileSync(f, 'utf8').includes(ctx.state.rayToken), `${f} contains the Ray token`);
      }
    },
  },
  {
    name: 'sign in with device code (approved by the test as alice), Ray clusters listed',
    timeoutMs: 120000,
    fn: async (ctx) => {
      const exports = await rayConnect();
      const { approveDevice, readSandbox } = await sandbox(ctx.config);
      const env = readSandbox();
      const seen = new Promise((resolve) => {
        const sub = exports.events.on((e) => {
          if (e.type === 'device-code') {
            sub.dispose();
            resolve(e);
          }
        });
      });
      const command = run(exports, 'rayConnect.signInDevice', CLUSTER);
      const code = await seen;
      assert.match(code.userCode, /\S{4,}/);
      await approveDevice({ userCode: code.userCode, user: 'alice' });
      await command;
      const c = await waitFor(
        'signed in as alice',
        () => clusterNode(exports)?.contextValue === 'cluster.signedIn' && clusterNode(exports),
      );
      assert.match(c.description, /alice/);
      await waitFor(
        'Ray clusters listed for alice',
        () =>
          nodes(exports).filter((n) => n.kind === 'rayCluster').length >= Object.keys(env.rayClusters).length,
      );
      await harvestSecrets(exports, secretsOf(ctx));
    },
  },
  {
    name: 'connect in Kubernetes RBAC mode as alice, then sign out',
    needsPrevious: true,
    timeoutMs: 240000,
    fn: async (ctx) => {
      const exports = await rayConnect();
      const { readSandbox } = await sandbox(ctx.config);
      const env = readSandbox();
      const ref = { clusterId: CLUSTER, namespace: env.namespace, name: env.rayClusters.rbac };
      await run(exports, 'rayConnect.connect', ref);
      await waitFor('connected row', () =>
        nodes(exports).find((n) => n.label === ref.name && n.contextValue === 'rayCluster.connected'),
      );
      // The status bar: the connected Ray cluster and the time left on alice's token (it expires: OIDC id_token).
      await waitFor(`status bar "Ray: ${ref.name} - <time left>" (is: ${exports.statusText()})`, () =>
        new RegExp(`Ray: ${ref.name} - \\d+[smh]`).test(exports.statusText()),
      );
      const job = await inNewTerminal(ctx, `${ctx.config.rayBin} job submit -- python -c "print(40 + 2)"`, {
        timeoutMs: 200000,
      });
      fs.writeFileSync(path.join(ctx.config.workDir, 'ray-job-submit-rbac.log'), job.output);
      assert.equal(job.code, 0, `ray job submit (RBAC mode): ${job.output.slice(-800)}`);
      const rbacEnv = parseEnv((await inNewTerminal(ctx, "env | grep '^RAY_'")).output);
      addSecret(secretsOf(ctx), rbacEnv.RAY_AUTH_TOKEN);
      if (rbacEnv.RAY_AUTH_TOKEN_PATH && fs.existsSync(rbacEnv.RAY_AUTH_TOKEN_PATH)) {
        ctx.state.tokenFiles = [...(ctx.state.tokenFiles ?? []), rbacEnv.RAY_AUTH_TOKEN_PATH];
        addSecret(secretsOf(ctx), fs.readFileSync(rbacEnv.RAY_AUTH_TOKEN_PATH, 'utf8').trim());
      }
      await harvestSecrets(exports, secretsOf(ctx));
      await run(exports, 'rayConnect.signOut', CLUSTER);
      await waitFor('signed out', () => clusterNode(exports)?.contextValue === 'cluster.signedOut');
      assert.deepEqual(exports.terminalEnvNames(), []);
      assert.deepEqual(await secretKeysOf(exports), []);
    },
  },
  {
    name: 'sign in with the browser (authorization code + PKCE, loopback redirect) as alice, then sign out',
    timeoutMs: 120000,
    fn: async (ctx) => {
      const exports = await rayConnect();
      const { browserLogin, readSandbox } = await sandbox(ctx.config);
      const env = readSandbox();
      await waitFor('signed out', () => clusterNode(exports)?.contextValue === 'cluster.signedOut');
      let sub;
      const seen = new Promise((resolve) => {
        sub = exports.events.on((e) => {
          if (e.type === 'browser-sign-in') resolve(e);
        });
      });
      const command = run(exports, 'rayConnect.signInBrowser', CLUSTER);
      const { url } = await seen;
      sub.dispose();
      // What the extension opened in the browser: the provider's authorization endpoint, PKCE S256, a loopback
      // redirect on 127.0.0.1 (ours), no secret in the URL.
      const authorize = new URL(url);
      assert.equal(authorize.origin, new URL(env.oidc.issuer).origin);
      assert.equal(authorize.searchParams.get('response_type'), 'code');
      assert.equal(authorize.searchParams.get('client_id'), env.oidc.clientId);
      assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256');
      assert.match(authorize.searchParams.get('code_challenge') ?? '', /^[\w-]{43}$/);
      assert.ok(authorize.searchParams.get('state'), 'state');
      assert.equal(authorize.searchParams.get('code_verifier'), null);
      const redirect = new URL(authorize.searchParams.get('redirect_uri') ?? '');
      assert.equal(redirect.protocol, 'http:');
      assert.equal(redirect.hostname, '127.0.0.1');
      // The test is the person at the browser: the provider's login and consent pages, then the redirect back to
      // the extension's loopback listener, which answers with its "you can close this tab" page.
      const back = await browserLogin(url, { user: 'alice' });
      assert.equal(new URL(back.callbackUrl).origin, redirect.origin);
      assert.equal(back.status, 200, `loopback page: ${back.status} ${back.body.slice(0, 200)}`);
      await command;
      const c = await waitFor(
        'signed in as alice',
        () => clusterNode(exports)?.contextValue === 'cluster.signedIn' && clusterNode(exports),
      );
      assert.match(c.description, /alice/);
      await waitFor(
        'Ray clusters listed for alice',
        () =>
          nodes(exports).filter((n) => n.kind === 'rayCluster').length >= Object.keys(env.rayClusters).length,
      );
      assert.ok((await secretKeysOf(exports)).length > 0, 'the OIDC session is kept in SecretStorage');
      await harvestSecrets(exports, secretsOf(ctx));
      await run(exports, 'rayConnect.signOut', CLUSTER);
      await waitFor('signed out', () => clusterNode(exports)?.contextValue === 'cluster.signedOut');
      assert.deepEqual(await secretKeysOf(exports), []);
    },
  },
  {
    name: 'leak search: no secret of the run in any file of the server, workspace or extension dirs',
    timeoutMs: 120000,
    fn: async (ctx) => {
      const exports = await rayConnect();
      await waitFor('signed out', () => clusterNode(exports)?.contextValue === 'cluster.signedOut');
      assert.deepEqual(await secretKeysOf(exports), [], 'SecretStorage is empty after sign-out');
      const secrets = secretsOf(ctx);
      // At least: the pasted ServiceAccount token, a Ray token, alice's id_token and refresh token.
      assert.ok(secrets.size >= 4, `secrets collected: ${secrets.size}`);
      // The run's work dir holds the server's data dir (user data: logs incl. the extension's "Ray Connect.log",
      // globalStorage with the extension's config and tokens/ dir, workspaceStorage, server.log), the workspace
      // folder, the kubeconfig, suite.log and workbench.log.
      const dirs = [ctx.config.workDir];
      const extraConfig = path.join(os.homedir(), '.config', 'ray-connect');
      if (fs.existsSync(extraConfig)) dirs.push(extraConfig);
      for (const f of ctx.state.tokenFiles ?? []) {
        // The RAY_AUTH_TOKEN_PATH file of the RBAC connection: gone, or empty of every secret.
        if (fs.existsSync(f)) dirs.push(path.dirname(f));
      }
      // The search itself finds what is there: a random non-secret canary (a JWT shape), whole and signature alone.
      const canary = ['a', 'b', 'c'].map(() => require('node:crypto').randomBytes(24).toString('base64url'));
      const canaryFile = path.join(ctx.config.workDir, 'leak-canary.txt');
      fs.writeFileSync(canaryFile, `x${canary.join('.')} y${canary[2]}`);
      try {
        const c = leakSearch([ctx.config.workDir], new Set([canary.join('.')]));
        assert.deepEqual(c.hits, [
          `${canaryFile} @1 (secret #1, whole)`,
          `${canaryFile} @${canary[0].length + canary[1].length + 3} (secret #1, signature)`,
        ]);
      } finally {
        fs.rmSync(canaryFile, { force: true });
      }
      const r = leakSearch(dirs, secrets);
      ctx.log(
        `leak search: ${secrets.size} secrets (${r.needles} needles) in ${r.files} files, ${r.bytes} bytes` +
          `${r.skipped.length ? `; skipped (over the size bound): ${r.skipped.join(', ')}` : ''}`,
      );
      assert.deepEqual(r.hits, [], `secrets found (file @offset):\n${r.hits.join('\n')}`);
      assert.ok(r.files > 0, 'files were searched');
    },
  },
];
