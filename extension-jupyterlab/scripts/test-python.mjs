// `pnpm --filter ./extension-jupyterlab run test:python`: pytest for the server extension (tests/) in the venv
// (created on first run), then test-results/unit-python.json = {passed, failed, skipped}.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureVenv, venvPython } from './venv.mjs';

const here = join(dirname(fileURLToPath(import.meta.url)), '..');
const results = join(here, '..', 'test-results');
const junit = join(results, 'unit-python.junit.xml');
mkdirSync(results, { recursive: true });
rmSync(junit, { force: true });

ensureVenv();
const r = spawnSync(
  venvPython,
  ['-m', 'pytest', '-p', 'no:cacheprovider', '-q', `--junitxml=${junit}`, 'tests', ...process.argv.slice(2)],
  {
    cwd: here,
    stdio: 'inherit',
    // The package is imported from the source tree (no install needed to test the server extension).
    env: { ...process.env, PYTHONPATH: [here, process.env.PYTHONPATH].filter(Boolean).join(':') },
  },
);

const counts = { passed: 0, failed: 0, skipped: 0 };
try {
  const xml = readFileSync(junit, 'utf8');
  const suite = /<testsuite\b[^>]*>/.exec(xml)?.[0] ?? '';
  const attr = (name) => Number(new RegExp(`\\b${name}="(\\d+)"`).exec(suite)?.[1] ?? 0);
  counts.failed = attr('failures') + attr('errors');
  counts.skipped = attr('skipped');
  counts.passed = attr('tests') - counts.failed - counts.skipped;
} catch {
  counts.failed = 1; // pytest did not even write its report
}
writeFileSync(join(results, 'unit-python.json'), JSON.stringify(counts) + '\n');
process.stdout.write(
  `unit-python: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped\n`,
);
process.exitCode = r.status === 0 && counts.failed === 0 ? 0 : 1;
