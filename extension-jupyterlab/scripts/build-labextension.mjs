// Builds what the Python package ships: the prebuilt labextension (webpack via @jupyterlab/builder, against the
// JupyterLab core of the venv) and the agent bundle (packages/cli -> one JS file). Run after `tsc`.
//   node scripts/build-labextension.mjs [--development]
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureVenv, venvPython } from './venv.mjs';

const here = join(dirname(fileURLToPath(import.meta.url)), '..');
const repo = join(here, '..');
const log = (m) => process.stderr.write(`[ray-connect] ${m}\n`);

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: here, ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status})`);
  return r;
}

ensureVenv();
const core = spawnSync(
  venvPython,
  ['-c', 'import jupyterlab, os; print(os.path.join(os.path.dirname(jupyterlab.__file__), "staging"))'],
  {
    encoding: 'utf8',
  },
).stdout.trim();
if (!existsSync(core)) throw new Error(`JupyterLab core not found at ${core}`);
const builder = createRequire(join(here, 'package.json')).resolve(
  '@jupyterlab/builder/lib/build-labextension.js',
);
const dev = process.argv.includes('--development') ? ['--development'] : [];
log('building the labextension');
run(process.execPath, [builder, '--core-path', core, ...dev, here]);

// The agent: packages/cli's build bundles the CLI and agent into one ESM file (scripts/bundle.mjs); ship it.
const cliDist = join(repo, 'packages', 'cli', 'dist');
const bundle = join(cliDist, 'ray-connect.mjs');
const target = join(here, 'ray_connect_jupyterlab', 'agent', 'ray-connect.mjs');
mkdirSync(dirname(target), { recursive: true });
if (!existsSync(bundle)) {
  log('bundling the agent (packages/cli/scripts/bundle.mjs)');
  run(process.execPath, [join(repo, 'packages', 'cli', 'scripts', 'bundle.mjs')], {
    cwd: join(repo, 'packages', 'cli'),
  });
}
copyFileSync(bundle, target);
if (existsSync(bundle + '.LEGAL.txt')) copyFileSync(bundle + '.LEGAL.txt', target + '.LEGAL.txt');
log(`agent bundle copied to ${target}`);
