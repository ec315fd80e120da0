// VS Code part of `pnpm start`: code-server with the Ray Connect extension, on http://127.0.0.1:8081.
//   - installs code-server (Node 24) if needed (test/e2e-vscode/scripts/install.mjs, idempotent, into $RC_CACHE)
//   - builds and packages the extension (.vsix) and installs it into code-server
//   - KUBECONFIG: the given file, else a sandbox kubeconfig with one context and no credentials (sign in from the
//     Ray view with a device code, a token, or the browser)
// Called by scripts/start.mjs as `start({ kubeconfig, log })`. Runs until Ctrl-C.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { pnpm, root } from './lib.mjs';

const PORT = Number(process.env.RC_VSCODE_PORT ?? 8081);

function portFree(port) {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

function mergeJson(file, values) {
  let current = {};
  try {
    current = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    // new file (or not plain JSON: we start over rather than corrupt it)
  }
  writeFileSync(file, JSON.stringify({ ...current, ...values }, null, 2) + '\n');
}

export async function start({ kubeconfig, log }) {
  const installer = await import(
    pathToFileURL(join(root, 'test', 'e2e-vscode', 'scripts', 'install.mjs')).href
  );
  log('VS Code: installing code-server if needed (first time: a few minutes)');
  installer.install();
  const home = join(installer.cacheDir, 'vscode');
  const userData = join(home, 'user');
  const extensions = join(home, 'extensions');
  const workspace = join(home, 'workspace');
  mkdirSync(join(userData, 'User'), { recursive: true });
  mkdirSync(workspace, { recursive: true });

  log('VS Code: packaging the extension');
  if ((await pnpm(['--filter', 'ray-connect', 'run', 'package'])) !== 0)
    throw new Error('packaging the VS Code extension failed');
  const vsix = join(root, 'extension-vscode', 'dist', 'ray-connect.vsix');
  const inst = spawnSync(
    installer.node24,
    [
      installer.codeServerBin,
      '--install-extension',
      vsix,
      '--force',
      '--extensions-dir',
      extensions,
      '--user-data-dir',
      userData,
    ],
    { encoding: 'utf8' },
  );
  if (inst.status !== 0)
    throw new Error(`installing the extension into code-server failed: ${inst.stderr || inst.stdout}`);

  const settings = { 'workbench.startupEditor': 'none', 'telemetry.telemetryLevel': 'off' };
  let how = 'open the Ray view (activity bar) and sign in';
  if (!kubeconfig) {
    const { readSandbox } = await import(pathToFileURL(join(root, 'test', 'sandbox', 'client.mjs')).href);
    const { writeKubeconfig } = await import(
      pathToFileURL(join(root, 'test', 'e2e-vscode', 'helpers', 'workspace.mjs')).href
    );
    const sandbox = readSandbox();
    kubeconfig = writeKubeconfig(join(home, 'kubeconfig'), sandbox);
    Object.assign(settings, {
      'rayConnect.caFile': sandbox.caFile,
      'rayConnect.oidc.issuer': sandbox.oidc.issuer,
      'rayConnect.oidc.clientId': sandbox.oidc.clientId,
    });
    const alice = sandbox.users?.alice;
    how =
      'open the Ray view (activity bar) -> "Sign in with device code", then log in at the shown URL as ' +
      (alice ? `${alice.username} / ${alice.password}` : 'a sandbox user') +
      `; or "Paste a token" from: ${sandbox.kubectl} --kubeconfig ${sandbox.adminKubeconfig} create token ${sandbox.serviceAccounts.rayUser.name} -n ${sandbox.namespace}`;
  }
  mergeJson(join(userData, 'User', 'settings.json'), settings);

  if (!(await portFree(PORT)))
    throw new Error(`port ${PORT} is taken: stop what runs there, or set RC_VSCODE_PORT`);
  const logFile = join(home, 'code-server.log');
  const out = openSync(logFile, 'a');
  const child = spawn(
    installer.node24,
    [
      installer.codeServerBin,
      '--bind-addr',
      `127.0.0.1:${PORT}`,
      '--auth',
      'none',
      '--disable-telemetry',
      '--disable-update-check',
      '--user-data-dir',
      userData,
      '--extensions-dir',
      extensions,
      workspace,
    ],
    { env: { ...process.env, KUBECONFIG: kubeconfig }, stdio: ['ignore', out, out] },
  );
  child.on('exit', (code, signal) =>
    log(`VS Code (code-server) stopped (${signal ?? code}); log: ${logFile}`),
  );
  for (let i = 0; i < 120; i++) {
    if (child.exitCode !== null) throw new Error(`code-server exited at start; see ${logFile}`);
    const ok = await fetch(`http://127.0.0.1:${PORT}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  log(
    `VS Code: http://127.0.0.1:${PORT}/?folder=${encodeURIComponent(workspace)}  (KUBECONFIG=${kubeconfig}; log ${logFile})`,
  );
  log(`VS Code: to sign in, ${how}`);
  return child;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const i = args.indexOf('--kubeconfig');
  await start({
    kubeconfig: i >= 0 ? args[i + 1] : undefined,
    log: (m) => process.stderr.write(`[ray-connect] ${m}\n`),
  });
  if (existsSync('/dev/null')) process.stderr.write('[ray-connect] Ctrl-C stops VS Code\n');
}
