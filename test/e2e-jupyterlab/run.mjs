// `pnpm --filter @ray-connect/e2e-jupyterlab run test`: Ray Connect in a real JupyterLab against the sandbox.
// Installs the extension into the venv, starts JupyterLab (galata config) on a free port with a kubeconfig for the
// sandbox, runs the Playwright/Galata tests in Debian Chromium, and writes test-results/e2e-jupyterlab.json.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const results = join(root, 'test-results');
const log = (m) => process.stderr.write(`[e2e-jupyterlab] ${m}\n`);
const { installExtension, launchJupyterLab, writeSandboxKubeconfig } = await import(
  pathToFileURL(join(root, 'scripts', 'start-jupyterlab.mjs')).href
);
const { cacheDir, workTag } = await import(
  pathToFileURL(join(root, 'extension-jupyterlab', 'scripts', 'venv.mjs')).href
);
const { readSandbox } = await import(pathToFileURL(join(root, 'test', 'sandbox', 'client.mjs')).href);

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
  writeFileSync(join(results, 'e2e-jupyterlab.json'), JSON.stringify(counts) + '\n');
  log(`${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`);
}

async function main() {
  const chromium = process.env.RC_CHROMIUM ?? '/usr/bin/chromium';
  if (!existsSync(chromium))
    throw new Error(`No Chromium at ${chromium}: apt-get install -y chromium (never playwright install)`);
  const sandbox = readSandbox();
  if (!sandbox.rayHeads?.token)
    log(
      `warning: the sandbox reports no token-mode Ray head${sandbox.rayHeadsError ? ` (${sandbox.rayHeadsError})` : ''}`,
    );
  const venvPython = installExtension(log);

  const work = join(cacheDir, `e2e-jupyterlab${workTag}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const kubeconfig = writeSandboxKubeconfig(join(work, 'kubeconfig'), sandbox);
  // A second Python kernelspec: a kernel of it started after connecting must get the env too (not only python3).
  const otherSpec = join(work, 'jupyter', 'data', 'kernels', 'python-other');
  mkdirSync(otherSpec, { recursive: true });
  writeFileSync(
    join(otherSpec, 'kernel.json'),
    JSON.stringify({
      argv: [venvPython, '-m', 'ipykernel_launcher', '-f', '{connection_file}'],
      display_name: 'Python (second kernelspec)',
      language: 'python',
    }),
  );
  const notebooks = join(work, 'notebooks');
  const port = await freePort();
  const lab = await launchJupyterLab({
    port,
    token: '',
    rootDir: notebooks,
    kubeconfig,
    env: {
      RAY_CONNECT_CONFIG_DIR: join(work, 'ray-connect'), // a fresh agent state: no sign-in left from elsewhere
      RAY_CONNECT_OIDC_ISSUER: sandbox.oidc.issuer,
      RAY_CONNECT_OIDC_CLIENT_ID: sandbox.oidc.clientId,
      RAY_CONNECT_OIDC_CA_FILE: sandbox.oidc.caFile,
      JUPYTERLAB_GALATA_ROOT_DIR: notebooks,
      // Every dir the server and its kernels write to is the tier's own (the leak search reads them all), not $HOME's.
      JUPYTER_CONFIG_DIR: join(work, 'jupyter', 'config'),
      JUPYTER_DATA_DIR: join(work, 'jupyter', 'data'),
      JUPYTER_RUNTIME_DIR: join(work, 'jupyter', 'runtime'),
      JUPYTERLAB_SETTINGS_DIR: join(work, 'jupyter', 'lab-settings'),
      JUPYTERLAB_WORKSPACES_DIR: join(work, 'jupyter', 'lab-workspaces'),
      IPYTHONDIR: join(work, 'jupyter', 'ipython'),
    },
    extraArgs: [
      `--config=${join(here, 'jupyter_server_test_config.py')}`,
      // galata's config puts the workspaces in a mkdtemp dir; the command line wins over the config file.
      `--LabApp.workspaces_dir=${join(work, 'jupyter', 'lab-workspaces')}`,
    ],
    logFile: join(work, 'jupyterlab.log'),
    log,
  });
  log(`JupyterLab at ${lab.baseUrl} (log ${join(work, 'jupyterlab.log')})`);
  const report = join(results, 'e2e-jupyterlab.playwright.json');
  rmSync(report, { force: true });
  let code;
  try {
    const cli = join(dirname(fileURLToPath(import.meta.resolve('@playwright/test/package.json'))), 'cli.js');
    code = spawnSync(
      process.execPath,
      [cli, 'test', '--config', join(here, 'playwright.config.mjs'), ...process.argv.slice(2)],
      {
        cwd: here,
        stdio: 'inherit',
        env: {
          ...process.env,
          TARGET_URL: lab.baseUrl,
          RC_E2E_NOTEBOOKS: notebooks,
          RC_E2E_VENV_BIN: dirname(venvPython), // where pip put the console scripts (ray-connect)
          RC_E2E_WORK: work, // everything the run writes: the leak search's root
          RC_E2E_RESULTS: results,
          PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: '1',
        },
      },
    ).status;
  } finally {
    lab.child.kill('SIGTERM');
    await new Promise((r) => (lab.child.exitCode !== null ? r() : lab.child.once('exit', r)));
  }
  const counts = { passed: 0, failed: 0, skipped: 0 };
  if (existsSync(report)) {
    const stats = JSON.parse(readFileSync(report, 'utf8')).stats ?? {};
    counts.passed = (stats.expected ?? 0) + (stats.flaky ?? 0);
    counts.failed = stats.unexpected ?? 0;
    counts.skipped = stats.skipped ?? 0;
  }
  if (code !== 0 && counts.failed === 0) counts.failed = 1;
  writeCounts(counts);
  return code === 0 ? 0 : 1;
}

try {
  process.exitCode = await main();
} catch (e) {
  log(e.message);
  writeCounts({ passed: 0, failed: 1, skipped: 0 });
  process.exitCode = 1;
}
