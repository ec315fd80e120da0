// `pnpm bench [suite...] [--no-build] [--keep-sandbox]`: builds, starts the sandbox if it is not running, runs the
// benchmark suites in bench/suites and writes bench/results/latest.{json,md}. See bench/README.md.
// Every figure that matters is a ratio measured in the same run (the machines are noisy). Suites fail soft: a
// missing piece becomes "not available: <reason>" in the report. Exit code is 0 unless the harness itself broke.
import {
  mkdirSync,
  readFileSync,
  readdirSync,
  writeFileSync,
  existsSync,
  mkdtempSync,
  rmSync,
} from 'node:fs';
import { cpus, freemem, loadavg, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { cacheDir, ensureInstalled, log as rootLog, pnpm, root } from './lib.mjs';

const benchDir = join(root, 'bench');
const resultsDir = join(benchDir, 'results');
const ORDER = ['port-forward', 'connect', 'signin', 'vscode', 'jupyterlab', 'scale'];

const { exec, stopAll } = await import(pathToFileURL(join(benchDir, 'lib', 'proc.mjs')).href);
const { findKubectl } = await import(pathToFileURL(join(benchDir, 'lib', 'kube.mjs')).href);
const { openSandbox } = await import(pathToFileURL(join(benchDir, 'lib', 'sandbox.mjs')).href);
const { renderMarkdown } = await import(pathToFileURL(join(benchDir, 'lib', 'report.mjs')).href);

const log = (m) => rootLog(`bench: ${m}`);

function parseArgs(argv) {
  const flags = new Set(argv.filter((a) => a.startsWith('--')));
  const suites = argv.filter((a) => !a.startsWith('--'));
  return { flags, suites };
}

function withTimeout(promise, ms, what) {
  let t;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      t = setTimeout(
        () => reject(new Error(`${what} took longer than its budget of ${Math.round(ms / 1000)} s`)),
        ms,
      );
    }),
  ]).finally(() => clearTimeout(t));
}

async function machine() {
  let os = release();
  try {
    os =
      (readFileSync('/etc/os-release', 'utf8').match(/^PRETTY_NAME="?([^"\n]*)/m)?.[1] ?? 'Linux') +
      `, kernel ${release()}`;
  } catch {
    /* not Linux */
  }
  return {
    cores: cpus().length,
    cpu: cpus()[0]?.model?.trim(),
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    freeMemoryGiB: Math.round((freemem() / 1024 ** 3) * 10) / 10,
    os,
    loadavgStart: loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

async function versions(ctx) {
  const v = { node: process.version };
  const first = (s) => s.trim().split('\n')[0];
  const pn = await exec('pnpm', ['--version'], { timeoutMs: 10_000 });
  if (pn.code === 0) v.pnpm = first(pn.stdout);
  const kc = await exec(ctx.kubectl, ['version', '--client', '-o', 'json'], { timeoutMs: 10_000 });
  if (kc.code === 0) v.kubectl = JSON.parse(kc.stdout).clientVersion?.gitVersion;
  if (ctx.kubeconfig) {
    const sv = await exec(ctx.kubectl, [`--kubeconfig=${ctx.kubeconfig}`, 'get', '--raw', '/version'], {
      timeoutMs: 10_000,
    });
    if (sv.code === 0) v.apiserver = JSON.parse(sv.stdout).gitVersion;
  }
  const kwok = join(cacheDir, 'bin', 'kwok');
  if (existsSync(kwok)) {
    const r = await exec(kwok, ['--version'], { timeoutMs: 10_000 });
    if (r.code === 0) v.kwok = first(r.stdout).replace(/^kwok version\s*/i, '');
  }
  const rayCandidates = [ctx.sandbox?.rayBin, join(cacheDir, 'ray-venv', 'bin', 'ray')].filter(Boolean);
  for (const ray of rayCandidates) {
    if (!existsSync(ray)) continue;
    const r = await exec(ray, ['--version'], { timeoutMs: 30_000 });
    if (r.code === 0) {
      v.ray = first(r.stdout).replace(/^ray, version\s*/i, '');
      break;
    }
  }
  const git = await exec('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, timeoutMs: 10_000 });
  if (git.code === 0) v.commit = first(git.stdout);
  return v;
}

async function main() {
  const started = Date.now();
  const { flags, suites: wanted } = parseArgs(process.argv.slice(2));
  const available = readdirSync(join(benchDir, 'suites'))
    .filter((f) => f.endsWith('.mjs'))
    .map((f) => f.replace(/\.mjs$/, ''));
  const unknown = wanted.filter((s) => !available.includes(s));
  if (unknown.length) {
    log(`unknown suite(s): ${unknown.join(', ')}; available: ${available.join(', ')}`);
    return 2;
  }
  const order = [
    ...ORDER.filter((s) => available.includes(s)),
    ...available.filter((s) => !ORDER.includes(s)).sort(),
  ];
  const selected = wanted.length ? order.filter((s) => wanted.includes(s)) : order;

  const setup = { build: 'skipped (--no-build)', sandbox: 'not started' };
  if (!flags.has('--no-build')) {
    const t0 = Date.now();
    try {
      await ensureInstalled();
      const code = await pnpm(['-r', 'run', 'build'], { stdio: ['ignore', 'inherit', 'inherit'] });
      setup.build =
        code === 0
          ? `ok in ${Math.round((Date.now() - t0) / 1000)} s`
          : `FAILED (exit ${code}): suites use whatever dist exists`;
    } catch (e) {
      setup.build = `FAILED: ${e.message}`;
    }
    log(`build: ${setup.build}`);
  }

  const tmp = mkdtempSync(join(tmpdir(), 'rc-bench-'));
  const ctx = {
    root,
    benchDir,
    cacheDir,
    tmp,
    kubectl: findKubectl(cacheDir),
    log,
    sandbox: undefined,
    kubeconfig: undefined,
    /** The built core (packages/core/dist), or throws "not built". */
    importCore: async () => {
      const file = join(root, 'packages', 'core', 'dist', 'index.js');
      if (!existsSync(file))
        throw new Error('@ray-connect/core is not built (packages/core/dist/index.js missing)');
      return import(pathToFileURL(file).href);
    },
  };

  const needSandbox = selected.length > 0;
  if (needSandbox) {
    try {
      const sb = await openSandbox(ctx, { start: !flags.has('--no-sandbox-start') });
      ctx.sandbox = sb.env;
      ctx.kubeconfig = sb.kubeconfig;
      setup.sandbox = sb.how;
    } catch (e) {
      setup.sandbox = `not available: ${e.message.split('\n')[0]}`;
    }
    log(`sandbox: ${setup.sandbox}`);
  }

  const report = {
    kind: 'ray-connect-bench',
    schema: 1,
    date: new Date().toISOString(),
    command: `pnpm bench${process.argv.slice(2).length ? ' ' + process.argv.slice(2).join(' ') : ''}`,
    machine: await machine(),
    versions: await versions(ctx),
    setup,
    suites: [],
  };

  const budgets = {
    'port-forward': 200_000,
    connect: 90_000,
    signin: 60_000,
    vscode: 240_000,
    jupyterlab: 180_000,
    scale: 150_000,
    dashboard: 240_000,
  };
  for (const name of selected) {
    const t0 = Date.now();
    log(`suite ${name}`);
    const entry = { name, title: name, figures: [], notes: [] };
    try {
      const mod = await import(pathToFileURL(join(benchDir, 'suites', `${name}.mjs`)).href);
      entry.title = mod.title ?? name;
      if (mod.needsSandbox !== false && !ctx.kubeconfig)
        throw new Error(`needs the sandbox, which is ${setup.sandbox}`);
      const out = await withTimeout(Promise.resolve(mod.run(ctx)), budgets[name] ?? 120_000, `suite ${name}`);
      entry.figures = Array.isArray(out) ? out : (out?.figures ?? []);
      entry.notes = out?.notes ?? [];
      if (out?.detail) entry.detail = out.detail;
      entry.status = 'ok';
    } catch (e) {
      entry.status = 'not-available';
      entry.reason = (e?.message ?? String(e)).split('\n')[0].slice(0, 400);
      log(`suite ${name}: not available: ${entry.reason}`);
    }
    await stopAll();
    entry.seconds = Math.round((Date.now() - t0) / 100) / 10;
    report.suites.push(entry);
    for (const f of entry.figures)
      log(`  ${f.label}: ${f.status ? `${f.status}: ${f.reason}` : `${f.value} ${f.unit ?? ''}`}`);
  }
  report.machine.loadavgEnd = loadavg().map((x) => Math.round(x * 100) / 100);
  report.totalSeconds = Math.round((Date.now() - started) / 1000);

  mkdirSync(resultsDir, { recursive: true });
  // A partial run (some suites) writes its own file so it never overwrites the full report.
  const base = wanted.length ? `latest-${selected.join('+')}` : 'latest';
  writeFileSync(join(resultsDir, `${base}.json`), JSON.stringify(report, null, 2) + '\n');
  writeFileSync(join(resultsDir, `${base}.md`), renderMarkdown(report));
  rmSync(tmp, { recursive: true, force: true });
  log(`wrote bench/results/${base}.json and ${base}.md in ${report.totalSeconds} s`);
  return 0;
}

try {
  process.exitCode = await main();
} catch (e) {
  rootLog(`bench: harness failed: ${e.stack ?? e}`);
  process.exitCode = 1;
} finally {
  await stopAll();
}
