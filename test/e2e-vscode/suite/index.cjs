// Extension-test entry point, loaded by VS Code's extension host (extensionTestsPath). A tiny sequential runner
// (no mocha): each test gets a timeout so a stuck notification can never hang the run; results go to a JSON file
// the outer runner (../run.mjs) reads. The run fails (exit code 1) when any test failed.
const fs = require('node:fs');
const path = require('node:path');

// RC_E2E_RUN_CONFIG (set by ../run.mjs on the server it starts) names this run's config; the default one is what a
// desktop VS Code run (extension-vscode/test-electron) reads.
const configFile =
  process.env.RC_E2E_RUN_CONFIG || path.join(__dirname, '..', 'artifacts', 'run-config.json');
/** config.suite -> the test file: `extension` (default) or `rotation` (slow: waits for a real token refresh). */
const SUITES = { extension: './extension.test.cjs', rotation: './rotation.test.cjs' };

exports.run = async function run() {
  const config = JSON.parse(fs.readFileSync(configFile, 'utf8'));
  const logFile = path.join(config.workDir, 'suite.log');
  const log = (line) => fs.appendFileSync(logFile, `${new Date().toISOString()} ${line}\n`);
  const { tests } = require(SUITES[config.suite ?? 'extension'] ?? SUITES.extension);
  const results = [];
  const ctx = { config, log, state: {} };
  let previousFailed = false;
  for (const t of tests) {
    if (t.needsPrevious && previousFailed) {
      results.push({ name: t.name, status: 'skipped', reason: 'an earlier step failed' });
      log(`SKIP ${t.name}`);
      continue;
    }
    log(`RUN  ${t.name}`);
    let timer;
    try {
      await Promise.race([
        t.fn(ctx),
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`did not finish within ${t.timeoutMs ?? 120000} ms`)),
            t.timeoutMs ?? 120000,
          );
        }),
      ]);
      results.push({ name: t.name, status: 'passed' });
      log(`PASS ${t.name}`);
      previousFailed = false;
    } catch (e) {
      results.push({ name: t.name, status: 'failed', error: e && e.stack ? String(e.stack) : String(e) });
      log(`FAIL ${t.name}: ${e && e.stack ? e.stack : e}`);
      previousFailed = true;
    } finally {
      clearTimeout(timer);
    }
  }
  fs.writeFileSync(config.resultsFile, JSON.stringify(results, null, 2));
  const failed = results.filter((r) => r.status === 'failed').length;
  if (failed) throw new Error(`${failed} extension test(s) failed; see ${logFile}`);
};
