// The slow suite (`run.mjs --rotation`, see ../README.md): a real token refresh while connected. Kubernetes RBAC
// mode: the Ray token is alice's OIDC id_token (sandbox TTL 600 s by default), which the core refreshes shortly
// before it expires, so this waits about the token's lifetime. CommonJS: VS Code loads it.
const fs = require('node:fs');
const path = require('node:path');
const { createHash } = require('node:crypto');
const vscode = require('vscode');
const assert = require('node:assert/strict');
const {
  CLUSTER,
  sandbox,
  waitFor,
  rayConnect,
  nodes,
  clusterNode,
  run,
  inTerminal,
  inNewTerminal,
  findFiles,
  parseEnv,
  secretKeysOf,
  signInDevice,
} = require('./lib.cjs');

/** What the test may keep of a token: a digest and its expiry (never the token itself). */
function describeToken(file) {
  const token = fs.readFileSync(file, 'utf8').trim();
  const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'));
  return { sha256: createHash('sha256').update(token).digest('hex'), exp: payload.exp, sub: payload.sub };
}

function connectionOf(list, ref) {
  return list.find(
    (c) => c.clusterId === ref.clusterId && c.namespace === ref.namespace && c.name === ref.name,
  );
}

/** The sandbox's token lifetime (run.mjs passes it; the suite's timeout is set before the sandbox is read). */
const ttlSeconds = () => Number(process.env.RC_E2E_TOKEN_TTL) || 600;

exports.tests = [
  {
    name: 'RBAC mode: the token is refreshed while connected; the terminal env follows it and a terminal opened before the refresh still runs `ray job submit` after the old token expired',
    timeoutMs: (ttlSeconds() + 240) * 1000,
    fn: async (ctx) => {
      const exports = await rayConnect();
      const { readSandbox } = await sandbox(ctx.config);
      const env = readSandbox();
      const ttl = env.oidc.tokenTtlSeconds ?? ttlSeconds();
      const c = await signInDevice(ctx, exports, 'alice');
      assert.match(c.description, /alice/);
      const ref = { clusterId: CLUSTER, namespace: env.namespace, name: env.rayClusters.rbac };
      await waitFor('the RBAC Ray cluster listed', () => nodes(exports).find((n) => n.label === ref.name));
      await run(exports, 'rayConnect.connect', ref);
      await waitFor('connected row', () =>
        nodes(exports).find((n) => n.label === ref.name && n.contextValue === 'rayCluster.connected'),
      );
      const before = connectionOf(await exports.api.listConnections(), ref);
      assert.ok(before, 'the connection is listed');

      // A terminal opened now, kept open across the refresh.
      const old = vscode.window.createTerminal({ name: 'e2e before refresh', cwd: ctx.config.workDir });
      try {
        const termEnv = parseEnv((await inTerminal(ctx, "env | grep '^RAY_'", { terminal: old })).output);
        assert.equal(termEnv.RAY_AUTH_MODE, 'token');
        assert.equal(
          termEnv.RAY_AUTH_TOKEN,
          undefined,
          'RBAC mode puts a token file, not the token, in the env',
        );
        const tokenFile = termEnv.RAY_AUTH_TOKEN_PATH;
        assert.ok(tokenFile && fs.existsSync(tokenFile), `RAY_AUTH_TOKEN_PATH=${tokenFile}`);
        assert.equal(fs.statSync(tokenFile).mode & 0o077, 0, 'the token file is private (0600)');
        const first = describeToken(tokenFile);
        ctx.log(
          `connected; token expires ${new Date(first.exp * 1000).toISOString()}; waiting for the refresh`,
        );

        // The core refreshes the OIDC session shortly before expiry and reports a new token version; the extension
        // re-applies the env (same names: the token file is rewritten in place).
        const after = await waitFor(
          'the token to be refreshed (token-rotated)',
          async () => {
            const now = connectionOf(await exports.api.listConnections(), ref);
            return now && now.tokenVersion > before.tokenVersion && now;
          },
          { timeoutMs: (ttl + 120) * 1000, everyMs: 5000 },
        );
        assert.equal(after.state, 'ready');
        const second = describeToken(tokenFile);
        assert.notEqual(second.sha256, first.sha256, 'the token file holds a new token');
        assert.ok(second.exp > first.exp, 'the new token expires later');
        assert.equal(second.sub, first.sub, 'still alice');
        ctx.log(`refreshed: token version ${before.tokenVersion} -> ${after.tokenVersion}`);

        // New terminals: the same variables (the env collection was re-applied with the same names and path).
        const fresh = parseEnv((await inNewTerminal(ctx, "env | grep '^RAY_'")).output);
        assert.equal(fresh.RAY_AUTH_TOKEN_PATH, tokenFile);
        assert.equal(fresh.RAY_ADDRESS, termEnv.RAY_ADDRESS);
        const logs = findFiles(path.join(ctx.config.workDir, 'server'), (f) => f.endsWith('Ray Connect.log'));
        await waitFor('the extension logged the env update', () =>
          logs.some((f) =>
            fs.readFileSync(f, 'utf8').includes('token rotated: terminal and kernel env updated'),
          ),
        );

        // Once the old token has expired, the terminal opened before the refresh still works (it reads the file).
        const wait = first.exp * 1000 + 5000 - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        const job = await inTerminal(ctx, `${ctx.config.rayBin} job submit -- python -c "print(40 + 2)"`, {
          terminal: old,
          timeoutMs: 200000,
        });
        fs.writeFileSync(path.join(ctx.config.workDir, 'ray-job-submit-rotated.log'), job.output);
        assert.equal(job.code, 0, `ray job submit after the refresh: ${job.output.slice(-800)}`);
        assert.match(job.output, /succeeded/i);
        for (const f of logs) {
          const text = fs.readFileSync(f, 'utf8');
          const raw = fs.readFileSync(tokenFile, 'utf8').trim();
          assert.ok(!text.includes(raw), `${f} contains the Ray token`);
        }
      } finally {
        old.dispose();
      }

      await run(exports, 'rayConnect.signOut', CLUSTER);
      await waitFor('signed out', () => clusterNode(exports)?.contextValue === 'cluster.signedOut');
      assert.deepEqual(exports.terminalEnvNames(), []);
      assert.deepEqual(await secretKeysOf(exports), []);
    },
  },
];
