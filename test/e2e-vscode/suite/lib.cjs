// Helpers shared by the extension-host suites (extension.test.cjs, rotation.test.cjs). CommonJS: VS Code loads it.
const vscode = require('vscode');
const fs = require('node:fs');
const path = require('node:path');
const { pathToFileURL } = require('node:url');
const assert = require('node:assert/strict');

const EXTENSION_ID = 'ray-connect.ray-connect';
const CLUSTER = 'context:sandbox';

let client;
async function sandbox(config) {
  client ??= await import(pathToFileURL(config.sandboxClient).href);
  return client;
}

async function waitFor(what, check, { timeoutMs = 60000, everyMs = 250 } = {}) {
  const end = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`waiting for ${what}${last ? `: ${last.message}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

async function rayConnect() {
  const ext = vscode.extensions.getExtension(EXTENSION_ID);
  assert.ok(ext, `extension ${EXTENSION_ID} is not loaded`);
  const exports = ext.isActive ? ext.exports : await ext.activate();
  await exports.ready;
  return exports;
}

function nodes(exports) {
  const out = [];
  const walk = (list) => {
    for (const n of list) {
      out.push(n);
      walk(n.children);
    }
  };
  walk(exports.viewModel().nodes);
  return out;
}

function clusterNode(exports) {
  return exports.viewModel().nodes.find((n) => n.clusterId === CLUSTER);
}

/**
 * Runs a command; fails at once if the extension reports an error (its toast would wait for a click forever).
 * Resolves when the command resolves.
 */
async function run(exports, id, ...args) {
  let sub;
  const failed = new Promise((_, reject) => {
    sub = exports.events.on((e) => {
      if (e.type === 'error') reject(new Error(`${id} showed an error: ${e.code}: ${e.message}`));
    });
  });
  try {
    return await Promise.race([vscode.commands.executeCommand(id, ...args), failed]);
  } finally {
    sub.dispose();
  }
}

let terminals = 0;
/**
 * Runs a shell line in `terminal` (or a NEW terminal, disposed after, so it gets the env collection as of now) and
 * returns what it wrote.
 */
async function inTerminal(ctx, script, { timeoutMs = 60000, terminal } = {}) {
  const n = ++terminals;
  const out = path.join(ctx.config.workDir, `term-${n}.out`);
  const done = path.join(ctx.config.workDir, `term-${n}.done`);
  const term = terminal ?? vscode.window.createTerminal({ name: `e2e ${n}`, cwd: ctx.config.workDir });
  try {
    term.sendText(`{ ${script} ; } > ${out} 2>&1; echo $? > ${done}`);
    await waitFor(`terminal ${n} to finish`, () => fs.existsSync(done), { timeoutMs });
    return { code: Number(fs.readFileSync(done, 'utf8').trim()), output: fs.readFileSync(out, 'utf8') };
  } finally {
    if (!terminal) term.dispose();
    // The output may hold a token: never leave it on disk.
    fs.rmSync(out, { force: true });
    fs.rmSync(done, { force: true });
  }
}

function inNewTerminal(ctx, script, options = {}) {
  return inTerminal(ctx, script, { ...options, terminal: undefined });
}

function findFiles(dir, match) {
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...findFiles(p, match));
    else if (match(p)) out.push(p);
  }
  return out;
}

function parseEnv(text) {
  const env = {};
  // Lines may carry terminal escape sequences in front (shell integration): match the names themselves.
  for (const line of text.split('\n')) {
    const m = /(RAY_[A-Z0-9_]*)=(.*)$/.exec(line);
    if (m) env[m[1]] = m[2].trim();
  }
  return env;
}

async function secretKeysOf(exports) {
  return (await exports.secretKeys()).filter((k) => k.includes('sandbox'));
}

/** Signs in to CLUSTER with the device flow, the code approved by the test as `user` (sandbox OIDC pages). */
async function signInDevice(ctx, exports, user) {
  const { approveDevice } = await sandbox(ctx.config);
  let sub;
  const seen = new Promise((resolve) => {
    sub = exports.events.on((e) => {
      if (e.type === 'device-code') resolve(e);
    });
  });
  const command = run(exports, 'rayConnect.signInDevice', CLUSTER);
  const code = await seen;
  sub.dispose();
  assert.match(code.userCode, /\S{4,}/);
  await approveDevice({ userCode: code.userCode, user });
  await command;
  return waitFor(
    `signed in as ${user}`,
    () => clusterNode(exports)?.contextValue === 'cluster.signedIn' && clusterNode(exports),
  );
}

module.exports = {
  EXTENSION_ID,
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
};

/**
 * Leak search helpers. Secrets are kept only in memory (a Set in ctx.state); never written anywhere.
 * addSecret: the value, and when it is JSON (a stored session), every string in it long enough to be a token.
 */
function addSecret(set, value) {
  if (typeof value !== 'string' || value.length < 12) return;
  set.add(value);
  let parsed;
  try {
    parsed = JSON.parse(value);
  } catch {
    return;
  }
  // Only the secret fields (idToken, refreshToken, token, ...) and JWT-shaped strings: a session also holds the
  // issuer URL and the username, which are not secrets.
  const jwt = /^[\w-]{8,}\.[\w-]{8,}\.[\w-]{16,}$/;
  const walk = (v, key) => {
    if (typeof v === 'string') {
      if (v !== value && v.length >= 12 && (/token|secret|password|credential/i.test(key) || jwt.test(v)))
        addSecret(set, v);
    } else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, k);
  };
  walk(parsed, '');
}

/** What sits in the extension's SecretStorage now (test mode only), into the set. */
async function harvestSecrets(exports, set) {
  assert.equal(typeof exports.testSecretValues, 'function', 'the extension runs in test mode');
  for (const v of await exports.testSecretValues()) addSecret(set, v);
}

const LEAK_MAX_FILE_BYTES = 8 * 1024 * 1024;

/**
 * Searches every file under `dirs` for every secret (and for JWTs their signature alone). Returns the hits as
 * "<file> @<offset> (secret #n, whole|signature)" (never the value) and the files skipped (size).
 */
function leakSearch(dirs, secrets) {
  const needles = [];
  let n = 0;
  for (const s of secrets) {
    n++;
    needles.push({ id: `secret #${n}, whole`, buf: Buffer.from(s, 'utf8') });
    const parts = s.split('.');
    if (parts.length === 3 && parts[2].length >= 16)
      needles.push({ id: `secret #${n}, signature`, buf: Buffer.from(parts[2], 'utf8') });
  }
  const hits = [];
  const skipped = [];
  let files = 0;
  let bytes = 0;
  const walk = (d) => {
    let entries;
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        let st;
        try {
          st = fs.statSync(p);
        } catch {
          continue;
        }
        if (st.size > LEAK_MAX_FILE_BYTES) {
          skipped.push(`${p} (${st.size} bytes)`);
          continue;
        }
        let buf;
        try {
          buf = fs.readFileSync(p);
        } catch {
          continue;
        }
        files++;
        bytes += buf.length;
        for (const nd of needles) {
          const at = buf.indexOf(nd.buf);
          if (at >= 0) hits.push(`${p} @${at} (${nd.id})`);
        }
      }
    }
  };
  for (const d of dirs) walk(d);
  return { hits, skipped, files, bytes, needles: needles.length };
}

module.exports.addSecret = addSecret;
module.exports.harvestSecrets = harvestSecrets;
module.exports.leakSearch = leakSearch;
