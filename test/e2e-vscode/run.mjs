// `pnpm --filter @ray-connect/e2e-vscode test`: the VS Code extension in a real VS Code against the sandbox.
//   1. installs code-server (Node 24) and Chromium if needed (scripts/install.mjs, idempotent, into $RC_CACHE)
//   2. builds and packages the extension (.vsix)
//   3. extension tests: server-main.js + smoke-test driver, Chromium opens the workbench with
//      extensionDevelopmentPath/extensionTestsPath; suite/ runs in the real extension host
//   4. with --rotation (or RC_E2E_ROTATION=1; alone: --only rotation): suite/rotation.test.cjs in its own server,
//      a real token refresh while connected (waits about the sandbox's token lifetime)
//   5. UI test: the .vsix installed into a fresh server; Chromium opens the Ray view, clicks "Paste a token",
//      types a token, sees the Ray clusters; screenshot in artifacts/
// Writes /work/main/test-results/e2e-vscode.json = { passed, failed, skipped, tests }.
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cacheDir, install } from './scripts/install.mjs';
import { freePort, startServer } from './helpers/server.mjs';
import { launchBrowser } from './helpers/browser.mjs';
import { writeKubeconfig, writeWorkspace } from './helpers/workspace.mjs';
import { runUiTest } from './ui.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const extensionDir = join(root, 'extension-vscode');
const artifacts = join(here, 'artifacts');
const resultsFile = join(root, 'test-results', 'e2e-vscode.json');
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;

const say = (m) => process.stderr.write(`[e2e-vscode] ${m}\n`);
const results = [];

function record(name, status, error) {
  results.push(error ? { name, status, error: String(error) } : { name, status });
  say(`${status.toUpperCase()} ${name}${error ? `: ${String(error).split('\n')[0]}` : ''}`);
}

function writeResults() {
  mkdirSync(dirname(resultsFile), { recursive: true });
  const count = (s) => results.filter((r) => r.status === s).length;
  const summary = {
    passed: count('passed'),
    failed: count('failed'),
    skipped: count('skipped'),
    tests: results,
  };
  writeFileSync(resultsFile, JSON.stringify(summary, null, 2));
  say(`${summary.passed} passed, ${summary.failed} failed, ${summary.skipped} skipped -> ${resultsFile}`);
  return summary;
}

async function sandboxUp() {
  const client = await import(pathToFileURL(join(root, 'test', 'sandbox', 'client.mjs')).href);
  const env = client.readSandbox();
  const r = spawnSync(process.execPath, [join(root, 'test', 'sandbox', 'sandbox.mjs'), 'status'], {
    encoding: 'utf8',
  });
  if (!/kube-apiserver\s+running/.test(r.stdout) || !/oidc\s+running/.test(r.stdout)) {
    throw new Error(`the sandbox is not up (node test/sandbox/sandbox.mjs up):\n${r.stdout}${r.stderr}`);
  }
  return env;
}

function buildExtension() {
  const pnpm =
    process.env.npm_execpath && /pnpm/.test(process.env.npm_execpath)
      ? [process.execPath, process.env.npm_execpath]
      : ['pnpm'];
  const r = spawnSync(pnpm[0], [...pnpm.slice(1), '--filter', 'ray-connect', 'run', 'package'], {
    cwd: root,
    stdio: 'inherit',
  });
  if (r.status !== 0)
    throw new Error('building the extension failed (pnpm --filter ray-connect run package)');
  return join(extensionDir, 'dist', 'ray-connect.vsix');
}

async function runExtensionTests(sandbox, suite = 'extension') {
  const workDir = mkdtempSync(join(cacheDir, 'e2e-vscode-run-'));
  const folder = writeWorkspace(join(workDir, 'workspace'), sandbox);
  const kubeconfig = writeKubeconfig(join(workDir, 'kubeconfig'), sandbox);
  const suiteResults = join(workDir, 'suite-results.json');
  mkdirSync(artifacts, { recursive: true });
  const config = JSON.stringify(
    {
      suite,
      workDir,
      resultsFile: suiteResults,
      sandboxClient: join(root, 'test', 'sandbox', 'client.mjs'),
      rayBin: join(cacheDir, 'ray-venv', 'bin', 'ray'),
    },
    null,
    2,
  );
  const configFile = join(workDir, 'run-config.json');
  writeFileSync(configFile, config);
  // The default suite's config also where a desktop VS Code run finds it (extension-vscode/test-electron).
  if (suite === 'extension') writeFileSync(join(artifacts, 'run-config.json'), config);
  const ttl = Number(sandbox.oidc?.tokenTtlSeconds) || 600;
  const port = await freePort();
  const server = await startServer({
    port,
    dataDir: join(workDir, 'server'),
    env: {
      KUBECONFIG: kubeconfig,
      HOME: process.env.HOME,
      RC_E2E_RUN_CONFIG: configFile,
      RC_E2E_TOKEN_TTL: String(ttl),
    },
  });
  say(`server ${server.url} (log ${server.log}); work dir ${workDir}`);
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    const exit = new Promise((resolve) => {
      page.exposeFunction('codeAutomationExit', (code) => resolve(Number(code)));
    });
    await page.exposeFunction('codeAutomationLog', (line) =>
      writeFileSync(join(workDir, 'workbench.log'), `${line}\n`, { flag: 'a' }),
    );
    const remote = (p) => `vscode-remote://127.0.0.1:${port}${p}`;
    const payload = [
      ['extensionDevelopmentPath', remote(extensionDir)],
      ['extensionTestsPath', remote(join(here, 'suite', 'index.cjs'))],
    ];
    await page.goto(
      `${server.url}/?folder=${encodeURIComponent(folder)}&payload=${encodeURIComponent(JSON.stringify(payload))}`,
    );
    let timer;
    const limitMs = suite === 'rotation' ? (ttl + 600) * 1000 : 15 * 60_000;
    const timeout = new Promise((r) => (timer = setTimeout(() => r('timeout'), limitMs)));
    const code = await Promise.race([exit, timeout]);
    clearTimeout(timer); // a pending 15-minute timer kept the tier alive 14 minutes after the tests ended
    await page.screenshot({ path: join(artifacts, `${suite}-tests-end.png`) }).catch(() => undefined);
    say(`${suite} tests exit code ${code}`);
    // Where the web workbench keeps SecretStorage: in memory in the page, or encrypted in the page's localStorage
    // (`secrets.provider`); either way in the browser, not on the server's disk (the leak search's note). Only its
    // presence and size are looked at.
    const kept = await page
      .evaluate(() => localStorage.getItem('secrets.provider')?.length ?? -1)
      .catch(() => undefined);
    say(
      `SecretStorage backing store: ${kept === undefined ? 'unknown' : kept < 0 ? 'in memory (no secrets.provider in localStorage)' : `localStorage secrets.provider, ${kept} chars (encrypted)`}`,
    );
    if (existsSync(suiteResults)) {
      for (const r of JSON.parse(readFileSync(suiteResults, 'utf8')))
        record(`${suite}: ${r.name}`, r.status, r.error ?? r.reason);
    } else {
      record(
        `${suite} tests ran`,
        'failed',
        `no results (exit ${code}); see ${join(workDir, 'suite.log')} and ${server.log}`,
      );
    }
  } finally {
    await browser.close();
    await server.stop();
  }
}

/** Work dirs of earlier runs (`e2e-vscode-run-*`, `e2e-vscode-ui-*`, ~3 MB each) older than a day go; newer
 * ones stay: a run going on in another checkout of this machine may be using them. */
function pruneOldWorkDirs(maxAgeMs = 24 * 3600 * 1000) {
  for (const name of readdirSync(cacheDir)) {
    if (!/^e2e-vscode-(run|ui)-/.test(name)) continue;
    const dir = join(cacheDir, name);
    try {
      if (Date.now() - statSync(dir).mtimeMs > maxAgeMs) rmSync(dir, { recursive: true, force: true });
    } catch {
      /* gone already */
    }
  }
}

async function main() {
  let sandbox;
  try {
    pruneOldWorkDirs();
    install();
    sandbox = await sandboxUp();
  } catch (e) {
    record('prerequisites (code-server, Chromium, sandbox)', 'failed', e instanceof Error ? e.message : e);
    return writeResults();
  }
  let vsix;
  try {
    vsix = buildExtension();
  } catch (e) {
    record('build and package the extension', 'failed', e.message);
    return writeResults();
  }
  if (!only || only === 'extension') {
    try {
      await runExtensionTests(sandbox);
    } catch (e) {
      record('extension tests', 'failed', e.stack ?? e);
    }
  }
  // The slow suite (a real token refresh: about the sandbox's token lifetime, 10 min by default): opt-in.
  if (
    only === 'rotation' ||
    (!only && (process.argv.includes('--rotation') || process.env.RC_E2E_ROTATION === '1'))
  ) {
    try {
      await runExtensionTests(sandbox, 'rotation');
    } catch (e) {
      record('rotation tests', 'failed', e.stack ?? e);
    }
  }
  if (!only || only === 'ui') {
    try {
      await runUiTest({ sandbox, vsix, artifacts, root, record });
    } catch (e) {
      record('ui test setup', 'failed', e.stack ?? e);
    }
  }
  return writeResults();
}

const summary = await main();
process.exitCode = summary.failed ? 1 : 0;
