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
