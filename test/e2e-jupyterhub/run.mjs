// `pnpm --filter @ray-connect/e2e-jupyterhub run test`: Ray Connect behind a real JupyterHub against the sandbox.
// Sets up (idempotent) the hub's venv and the unix users alice and bob, starts JupyterHub 6.1 with
// configurable-http-proxy on free 127.0.0.1 ports, spawns both users' servers (JupyterLab 4.6 + the extension) as
// their own uids, runs the Playwright tests in Debian Chromium through the hub and writes
// test-results/e2e-jupyterhub.json. The tier fails (never skips) when the hub or a server cannot start.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  ensureHubVenv,
  ensureUnixUser,
  hubRoot,
  installExtension,
  publicDir,
  runDir,
  venvBin,
  venvDir,
} from './setup.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const results = join(root, 'test-results');
const log = (m) => process.stderr.write(`[e2e-jupyterhub] ${m}\n`);
const { writeSandboxKubeconfig } = await import(
  pathToFileURL(join(root, 'scripts', 'start-jupyterlab.mjs')).href
);
const { readSandbox } = await import(pathToFileURL(join(root, 'test', 'sandbox', 'client.mjs')).href);
const require = createRequire(import.meta.url);

const USERS = ['alice', 'bob'];
const secs = (ms) => Math.round(ms / 100) / 10;

function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function writeCounts(counts) {
  mkdirSync(results, { recursive: true });
  writeFileSync(join(results, 'e2e-jupyterhub.json'), JSON.stringify(counts) + '\n');
  log(`${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`);
}

const tail = (file, n = 40) =>
  existsSync(file) ? readFileSync(file, 'utf8').trimEnd().split('\n').slice(-n).join('\n') : '';

/** Unix users for the servers, or the fallback (SimpleLocalProcessSpawner: all servers as this uid). */
function unixUsers() {
  if (process.getuid?.() !== 0)
    return {
      spawner: 'simple',
      fallback: 'not root: LocalProcessSpawner starts servers as other uids, which needs root',
    };
  try {
    return {
      spawner: 'localprocess',
      users: Object.fromEntries(USERS.map((n) => [n, ensureUnixUser(n, log)])),
    };
  } catch (e) {
    return { spawner: 'simple', fallback: `useradd failed: ${e.message}` };
  }
}

function chownTree(path, uid, gid) {
  chownSync(path, uid, gid);
  for (const entry of readdirSync(path, { withFileTypes: true, recursive: true }))
    chownSync(join(entry.parentPath ?? entry.path, entry.name), uid, gid);
}

/** Per-user files the servers read: kubeconfig (no credentials: the tests sign in), config and state dirs. */
function userFiles(name, user, sandbox, caFile) {
  const dir = join(runDir, 'users', name);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeSandboxKubeconfig(join(dir, 'kubeconfig'), { ...sandbox, caFile });
  for (const sub of [
    'notebooks',
    'ray-connect',
    'home',
    'jupyter/data',
    'jupyter/runtime',
    'jupyter/ipython',
  ])
    mkdirSync(join(dir, sub), { recursive: true, mode: 0o700 });
  mkdirSync(join(dir, 'jupyter', 'config'), { recursive: true });
  // No news or update prompts over the page; window.jupyterapp for the tests' commands (as galata's config does);
  // terminals run bash as a non-login shell, as Jupyter's docker-stacks images configure it: a login shell's
  // /etc/profile resets PATH and drops the venv (its `ray-connect`).
  writeFileSync(
    join(dir, 'jupyter', 'config', 'jupyter_server_config.json'),
    JSON.stringify(
      {
        ServerApp: { terminado_settings: { shell_command: ['/bin/bash'] } },
        LabApp: {
          news_url: null,
          check_for_updates_class: 'jupyterlab.NeverCheckForUpdate',
          expose_app_in_browser: true,
        },
      },
      null,
      2,
    ),
  );
  const notification = join(dir, 'jupyter', 'lab-settings', '@jupyterlab', 'apputils-extension');
  mkdirSync(notification, { recursive: true });
  writeFileSync(
    join(notification, 'notification.jupyterlab-settings'),
    JSON.stringify({ fetchNews: 'false', checkForUpdates: false }),
  );
  if (user) chownTree(dir, user.uid, user.gid);
  chmodSync(dir, 0o700);
  return dir;
}

async function waitFor(what, deadlineMs, check, child, logFile) {
  const end = Date.now() + deadlineMs;
  let last;
  while (Date.now() < end) {
    if (child && child.exitCode !== null)
      throw new Error(`${what}: the hub exited (code ${child.exitCode}); its log:\n${tail(logFile)}`);
    try {
      const r = await check();
      if (r) return r;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(
    `${what}: not within ${deadlineMs / 1000} s${last ? ` (${last.message})` : ''}; the hub's log:\n${tail(logFile)}`,
  );
}

async function main() {
  process.umask(0o022);
  const timings = {};
  const chromium = process.env.RC_CHROMIUM ?? '/usr/bin/chromium';
  if (!existsSync(chromium))
    throw new Error(`No Chromium at ${chromium}: apt-get install -y chromium (never playwright install)`);
  const sandbox = readSandbox();

  let t = Date.now();
  timings.cold = ensureHubVenv(log);
  timings.venvSeconds = secs(Date.now() - t);
  t = Date.now();
  installExtension(log);
  timings.extensionSeconds = secs(Date.now() - t);
  const { spawner, users, fallback } = unixUsers();
  if (fallback) log(`falling back to SimpleLocalProcessSpawner (${fallback})`);

  // The run's dir: hub state (root only), a readable copy of the sandbox CA (/root is 0700), per-user dirs.
  rmSync(runDir, { recursive: true, force: true });
  publicDir(runDir);
  const hubDir = join(runDir, 'hub');
  mkdirSync(hubDir, { mode: 0o700 });
  publicDir(join(runDir, 'ca'));
  publicDir(join(runDir, 'users'));
  const caFile = join(runDir, 'ca', 'sandbox-ca.crt');
  copyFileSync(sandbox.caFile, caFile);
  chmodSync(caFile, 0o644);
  const userDirs = Object.fromEntries(USERS.map((n) => [n, userFiles(n, users?.[n], sandbox, caFile)]));

  const [proxyPort, hubPort, proxyApiPort] = [await freePort(), await freePort(), await freePort()];
  const hubUrl = `http://127.0.0.1:${proxyPort}`;
  const password = randomBytes(18).toString('base64url');
  const adminToken = randomBytes(32).toString('hex');
  const chp = join(
    dirname(require.resolve('configurable-http-proxy/package.json')),
    'bin',
    'configurable-http-proxy',
  );
  const config = {
    runDir,
    usersDir: join(runDir, 'users'),
    proxyPort,
    hubPort,
    proxyApiPort,
    chp: [process.execPath, chp],
    users: USERS,
    spawner,
    venv: venvDir,
    oidcIssuer: sandbox.oidc.issuer,
    oidcClientId: sandbox.oidc.clientId,
    caFile,
  };
  const hubLog = join(hubDir, 'jupyterhub.log');
  log(`starting JupyterHub at ${hubUrl} (${spawner} spawner; log ${hubLog})`);
  t = Date.now();
  const out = openSync(hubLog, 'a');
  const hub = spawn(venvBin('jupyterhub'), ['-f', join(here, 'jupyterhub_config.py')], {
    cwd: hubDir,
    env: {
      PATH: `${join(venvDir, 'bin')}:${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`,
      HOME: process.env.HOME ?? '/root',
      LANG: 'C.UTF-8',
      RC_HUB_CONFIG: JSON.stringify(config),
      RC_HUB_PASSWORD: password,
      RC_HUB_ADMIN_TOKEN: adminToken,
    },
    stdio: ['ignore', out, out],
  });
  const api = (path, init = {}) =>
    fetch(`${hubUrl}/hub/api${path}`, {
      ...init,
      headers: { Authorization: `token ${adminToken}`, ...(init.headers ?? {}) },
    });
  const pids = new Set();
  let code;
  try {
    await waitFor(
      'JupyterHub answering through the proxy',
      120_000,
      async () => (await api('/')).ok,
      hub,
      hubLog,
    );
    timings.hubStartSeconds = secs(Date.now() - t);
    // Both servers spawned up front (the tests log in to running servers; a server that cannot start fails here).
    t = Date.now();
    for (const name of USERS) {
      const r = await api(`/users/${name}/server`, { method: 'POST' });
      if (![201, 202].includes(r.status))
        throw new Error(`POST /hub/api/users/${name}/server answered ${r.status}: ${await r.text()}`);
    }
    for (const name of USERS) {
      const model = await waitFor(
        `${name}'s server ready`,
        240_000,
        async () => {
          const u = await (await api(`/users/${name}`)).json();
          const s = u.servers?.[''];
          if (!s) throw new Error(`${name} has no server (spawn failed)`);
          return s.ready ? u : undefined;
        },
        hub,
        hubLog,
      );
      const pid = model.servers[''].state?.pid;
      if (pid) pids.add(pid);
      log(`${name}'s server ready at ${hubUrl}/user/${name}/ (pid ${pid ?? '?'})`);
    }
    timings.spawnSeconds = secs(Date.now() - t);

    const report = join(results, 'e2e-jupyterhub.playwright.json');
    rmSync(report, { force: true });
    t = Date.now();
    const cli = join(dirname(require.resolve('@playwright/test/package.json')), 'cli.js');
    code = spawnSync(
      process.execPath,
      [cli, 'test', '--config', join(here, 'playwright.config.mjs'), ...process.argv.slice(2)],
      {
        cwd: here,
        stdio: 'inherit',
        env: {
          ...process.env,
          HUB_URL: hubUrl,
          RC_HUB_PASSWORD: password,
          RC_HUB_ADMIN_TOKEN: adminToken,
          RC_HUB_INFO: JSON.stringify({
            runDir,
            hubRoot,
            venv: venvDir,
            spawner,
            fallback,
            users: Object.fromEntries(
              USERS.map((n) => [n, { dir: userDirs[n], uid: users?.[n]?.uid, gid: users?.[n]?.gid }]),
            ),
            ports: { proxy: proxyPort, hub: hubPort, proxyApi: proxyApiPort },
            hubLog,
          }),
          RC_E2E_RESULTS: results,
          PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: '1',
        },
      },
    ).status;
    timings.testsSeconds = secs(Date.now() - t);
    const counts = { passed: 0, failed: 0, skipped: 0 };
    if (existsSync(report)) {
      const stats = JSON.parse(readFileSync(report, 'utf8')).stats ?? {};
      counts.passed = (stats.expected ?? 0) + (stats.flaky ?? 0);
      counts.failed = stats.unexpected ?? 0;
      counts.skipped = stats.skipped ?? 0;
    }
    if (code !== 0 && counts.failed === 0) counts.failed = 1;
    writeCounts(counts);
  } finally {
    // Servers started since (a respawn) have other pids: read them before the hub goes.
    for (const name of USERS) {
      try {
        const pid = (await (await api(`/users/${name}`)).json()).servers?.['']?.state?.pid;
        if (pid) pids.add(pid);
      } catch {
        // the hub is gone already
      }
    }
    const proxyPid = Number(
      existsSync(join(hubDir, 'proxy.pid')) ? readFileSync(join(hubDir, 'proxy.pid'), 'utf8') : 0,
    );
    await stop(hub);
    // The hub stops its servers and its proxy; anything of ours still alive gets SIGTERM by pid.
    for (const pid of [...pids, proxyPid].filter(Boolean)) {
      if (existsSync(`/proc/${pid}`)) {
        log(`pid ${pid} outlived the hub; SIGTERM`);
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          // gone meanwhile
        }
      }
    }
    mkdirSync(results, { recursive: true });
    writeFileSync(join(results, 'e2e-jupyterhub.timings.json'), JSON.stringify(timings) + '\n');
    log(`timings: ${JSON.stringify(timings)}`);
  }
  return code === 0 ? 0 : 1;
}

async function stop(child) {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  await exited;
  clearTimeout(timer);
}

try {
  process.exitCode = await main();
} catch (e) {
  log(e.message);
  writeCounts({ passed: 0, failed: 1, skipped: 0 });
  process.exitCode = 1;
}
