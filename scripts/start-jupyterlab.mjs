// JupyterLab with Ray Connect installed, next to the sandbox (or your own cluster). Called by `pnpm start`;
// alone: `node scripts/start-jupyterlab.mjs [--kubeconfig <file>]` (after `pnpm build`).
//   start({ kubeconfig, log })  creates the venv if needed, installs the extension (pip install -e + labextension
//   develop), starts JupyterLab on 127.0.0.1:8888 with KUBECONFIG set, prints the URL with its token and how to sign in.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cacheDir, ensureVenv, venvBin, venvPython } from '../extension-jupyterlab/scripts/venv.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const extDir = join(root, 'extension-jupyterlab');

function sh(cmd, args, log) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) {
    log?.(r.stdout + r.stderr);
    throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status})`);
  }
  return r.stdout;
}

/** Installs the extension into the venv (idempotent): editable package + labextension symlink. */
export function installExtension(log = () => {}) {
  ensureVenv({ e2e: true }); // ray[default] too, so a notebook can use JobSubmissionClient
  if (!existsSync(join(extDir, 'ray_connect_jupyterlab', 'labextension', 'package.json'))) {
    throw new Error(
      'The labextension is not built: run `pnpm build` (or `pnpm --filter @ray-connect/jupyterlab run build`) first.',
    );
  }
  const shown = spawnSync(venvPython, ['-m', 'pip', 'show', '-f', 'ray-connect-jupyterlab'], {
    encoding: 'utf8',
  });
  if (shown.status !== 0 || !shown.stdout.includes('Editable project location: ' + extDir)) {
    log('installing ray-connect-jupyterlab (pip install -e) into ' + dirname(dirname(venvPython)));
    sh(
      venvPython,
      ['-m', 'pip', 'install', '--quiet', '--no-build-isolation', '--no-deps', '-e', extDir],
      log,
    );
  }
  // A copy of the build output (not a symlink like `jupyter labextension develop`): a rebuild running elsewhere
  // (`pnpm -r run build` empties the output folder first) must not break a running JupyterLab or a test run.
  const dest = join(
    dirname(dirname(venvPython)),
    'share',
    'jupyter',
    'labextensions',
    '@ray-connect',
    'jupyterlab',
  );
  rmSync(dest, { recursive: true, force: true });
  mkdirSync(dirname(dest), { recursive: true });
  cpSync(join(extDir, 'ray_connect_jupyterlab', 'labextension'), dest, { recursive: true });
  return venvPython;
}

/** A kubeconfig for the sandbox with one context and no credentials: the user signs in through the panel. */
export function writeSandboxKubeconfig(file, sandbox) {
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      { name: 'sandbox', cluster: { server: sandbox.apiServer, 'certificate-authority': sandbox.caFile } },
    ],
    users: [{ name: 'sandbox-user', user: {} }],
    contexts: [
      {
        name: 'sandbox',
        context: { cluster: 'sandbox', user: 'sandbox-user', namespace: sandbox.namespace },
      },
    ],
    'current-context': 'sandbox',
  };
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(config, null, 2), { mode: 0o600 });
  return file;
}

function portFree(port) {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/**
 * Starts `jupyter lab` (or `app: 'notebook'`: Notebook 7) on 127.0.0.1:<port>. The token goes through JUPYTER_TOKEN
 * (not argv). Resolves when /api/status answers. `extraArgs` e.g. for a galata config; `env` is added to the
 * server's environment.
 */
export async function launchJupyterLab({
  app = 'lab',
  port = 8888,
  token = randomBytes(24).toString('hex'),
  rootDir,
  kubeconfig,
  env = {},
  extraArgs = [],
  logFile,
  log = () => {},
}) {
  if (!(await portFree(port)))
    throw new Error(`Port ${port} on 127.0.0.1 is taken by another program; stop it or choose another port.`);
  mkdirSync(rootDir, { recursive: true });
  const args = [
    app,
    '--no-browser',
    '--ServerApp.ip=127.0.0.1',
    `--ServerApp.port=${port}`,
    '--ServerApp.port_retries=0',
    ...(process.getuid?.() === 0 ? ['--allow-root'] : []),
    `--ServerApp.root_dir=${rootDir}`,
    '--ServerApp.jpserver_extensions=ray_connect_jupyterlab=True',
    ...extraArgs,
  ];
  log(`starting jupyter ${app} on 127.0.0.1:${port}`);
  const childEnv = { ...process.env, ...env, JUPYTER_TOKEN: token };
  if (kubeconfig) childEnv.KUBECONFIG = kubeconfig;
  const out = logFile ? (await import('node:fs')).openSync(logFile, 'a') : 'inherit';
  const child = spawn(venvBin('jupyter'), args, { cwd: rootDir, env: childEnv, stdio: ['ignore', out, out] });
  const url = `http://127.0.0.1:${port}/${app === 'notebook' ? 'tree' : 'lab'}?token=${token}`;
  for (let i = 0; i < 240; i++) {
    if (child.exitCode !== null)
      throw new Error(`jupyter ${app} exited (code ${child.exitCode})${logFile ? `; see ${logFile}` : ''}`);
    try {
      const r = await fetch(`http://127.0.0.1:${port}/api/status`, {
        headers: { Authorization: `token ${token}` },
      });
      if (r.ok) return { child, url, token, port, baseUrl: `http://127.0.0.1:${port}` };
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  child.kill('SIGTERM');
  throw new Error(`jupyter ${app} did not answer on /api/status`);
}

/** `pnpm start`: JupyterLab with the extension, next to the sandbox or with the given kubeconfig. */
export async function start({ kubeconfig, log = (m) => process.stderr.write(`[ray-connect] ${m}\n`) } = {}) {
  installExtension(log);
  const workDir = join(cacheDir, 'jupyterlab');
  const env = {};
  let how;
  if (!kubeconfig) {
    const { readSandbox } = await import(pathToFileURL(join(root, 'test', 'sandbox', 'client.mjs')).href);
    const sandbox = readSandbox();
    kubeconfig = writeSandboxKubeconfig(join(workDir, 'kubeconfig'), sandbox);
    Object.assign(env, {
      RAY_CONNECT_OIDC_ISSUER: sandbox.oidc.issuer,
      RAY_CONNECT_OIDC_CLIENT_ID: sandbox.oidc.clientId,
      RAY_CONNECT_OIDC_CA_FILE: sandbox.oidc.caFile,
    });
    how = [
      'Sign in: open the Ray panel (left sidebar), then on "sandbox" click Sign in and choose',
      `  - "Sign in with device code": open ${sandbox.oidc.issuer}/device and log in as alice / ${sandbox.users.alice.password}`,
      `  - "Paste a token": e.g. the static token in ${sandbox.staticUsers.rayUser.tokenFile}`,
      `Then Connect a Ray cluster in ${sandbox.namespace} (raycluster-token) and, in a notebook:`,
      '  from ray.job_submission import JobSubmissionClient; JobSubmissionClient().submit_job(entrypoint="python -c \'print(42)\'")',
    ].join('\n');
  } else {
    how = 'Sign in: open the Ray panel (left sidebar) and click Sign in on your cluster.';
  }
  const lab = await launchJupyterLab({
    port: Number(process.env.RC_JUPYTER_PORT ?? 8888),
    rootDir: join(workDir, 'notebooks'),
    kubeconfig,
    env,
    log,
  });
  process.stdout.write(`\nJupyterLab with Ray Connect: ${lab.url}\nKUBECONFIG=${kubeconfig}\n${how}\n\n`);
  const stop = () => lab.child.kill('SIGTERM');
  process.once('exit', stop);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.once(signal, () => {
      stop();
      process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1));
    });
  }
  return lab;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const i = process.argv.indexOf('--kubeconfig');
  start({ kubeconfig: i > 0 ? process.argv[i + 1] : undefined }).catch((e) => {
    process.stderr.write(`[ray-connect] ${e.message}\n`);
    process.exitCode = 1;
  });
}
