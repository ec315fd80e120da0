// `pnpm test`: every tier, in order. Each tier is one command; its counts come from a JSON results file.
// Tiers whose code does not exist yet are skipped and said so. A tier fails when it exits non-zero, or exits 0
// without counts or with no test run. Exit code is non-zero if any tier failed.
// One tier alone: `pnpm test <tier> [<tier>...]` (e.g. `pnpm test unit`), or see test/README.md.
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ensureInstalled, log, pnpm, root, run } from './lib.mjs';

const results = join(root, 'test-results');

const vitest = (project) => ({
  cmd: () =>
    pnpm([
      'exec',
      'vitest',
      'run',
      '--project',
      project,
      '--reporter=default',
      '--reporter=json',
      `--outputFile.json=${join(results, project + '.json')}`,
    ]),
  counts: () => readVitest(join(results, project + '.json')),
});

/** The tiers, in the order they run. `needs: 'sandbox'` tiers run only after the sandbox is up. */
const tiers = [
  { name: 'build', cmd: () => pnpm(['-r', '--workspace-concurrency=1', 'run', 'build']) },
  { name: 'lint', cmd: () => pnpm(['run', 'lint']) },
  { name: 'unit', ...vitest('unit') },
  {
    name: 'unit-python',
    when: 'extension-jupyterlab/tests',
    cmd: () => pnpm(['--filter', './extension-jupyterlab', 'run', 'test:python']),
    counts: () => readJson('unit-python'),
  },
  {
    name: 'sandbox-up',
    when: 'test/sandbox/sandbox.mjs',
    cmd: () => run(process.execPath, ['test/sandbox/sandbox.mjs', 'up']),
  },
  { name: 'sandbox', when: 'test/sandbox/tests', needs: 'sandbox', ...vitest('sandbox') },
  { name: 'integration', when: 'test/integration', needs: 'sandbox', ...vitest('integration') },
  {
    name: 'e2e-vscode',
    when: 'test/e2e-vscode',
    needs: 'sandbox',
    cmd: () => pnpm(['--filter', './test/e2e-vscode', 'run', 'test']),
    counts: () => readJson('e2e-vscode'),
  },
  {
    name: 'e2e-jupyterlab',
    when: 'test/e2e-jupyterlab',
    needs: 'sandbox',
    cmd: () => pnpm(['--filter', './test/e2e-jupyterlab', 'run', 'test']),
    counts: () => readJson('e2e-jupyterlab'),
  },
  {
    name: 'e2e-jupyterhub',
    when: 'test/e2e-jupyterhub',
    needs: 'sandbox',
    cmd: () => pnpm(['--filter', './test/e2e-jupyterhub', 'run', 'test']),
    counts: () => readJson('e2e-jupyterhub'),
  },
  { name: 'faults', when: 'test/faults', needs: 'sandbox', ...vitest('faults') },
];

function readJson(name) {
  const file = join(results, name + '.json');
  if (!existsSync(file)) return undefined;
  const r = JSON.parse(readFileSync(file, 'utf8'));
  return { passed: r.passed ?? 0, failed: r.failed ?? 0, skipped: r.skipped ?? 0 };
}

function readVitest(file) {
  if (!existsSync(file)) return undefined;
  const r = JSON.parse(readFileSync(file, 'utf8'));
  return {
    passed: r.numPassedTests ?? 0,
    failed: r.numFailedTests ?? 0,
    skipped: (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0),
  };
}

async function main() {
  const only = process.argv.slice(2);
  rmSync(results, { recursive: true, force: true });
  mkdirSync(results, { recursive: true });
  await ensureInstalled();
  const total = { passed: 0, failed: 0, skipped: 0 };
  const summary = [];
  let sandboxUp = false;
  for (const tier of tiers) {
    if (only.length && !only.includes(tier.name) && tier.name !== 'sandbox-up') continue;
    if (
      only.length &&
      tier.name === 'sandbox-up' &&
      !tiers.some((t) => only.includes(t.name) && t.needs === 'sandbox')
    )
      continue;
    if (tier.when && !existsSync(join(root, tier.when))) {
      summary.push(`${tier.name}: skipped (${tier.when} does not exist yet)`);
      continue;
    }
    if (tier.needs === 'sandbox' && !sandboxUp) {
      summary.push(`${tier.name}: not run (the sandbox is not up)`);
      total.failed += 1;
      continue;
    }
    log(`tier ${tier.name}`);
    const started = Date.now();
    const code = await tier.cmd();
    const secs = ((Date.now() - started) / 1000).toFixed(0);
    const counts = tier.counts?.();
    if (tier.name === 'sandbox-up') sandboxUp = code === 0;
    if (counts) {
      total.passed += counts.passed;
      total.failed += counts.failed;
      total.skipped += counts.skipped;
    }
    // A tier fails when it exits non-zero, or exits 0 but wrote no counts or ran no test (it did not start).
    const ranNone = code === 0 && tier.counts && (!counts || counts.passed + counts.failed === 0);
    const failedWithoutCounts = code !== 0 && (!counts || counts.failed === 0);
    if (failedWithoutCounts || ranNone) total.failed += 1;
    const countText = counts
      ? ` ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`
      : '';
    const verdict =
      code !== 0
        ? `FAILED (exit ${code})`
        : ranNone
          ? `FAILED (${counts ? 'ran no test' : 'wrote no counts'})`
          : 'ok';
    summary.push(`${tier.name}: ${verdict}${countText} in ${secs}s`);
  }
  process.stdout.write('\nTiers:\n' + summary.map((s) => `  ${s}\n`).join(''));
  process.stdout.write(`tests: ${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped\n`);
  return total.failed === 0 ? 0 : 1;
}

process.exitCode = await main();
