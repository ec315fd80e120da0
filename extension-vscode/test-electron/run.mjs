// Extension tests in a desktop VS Code on a developer's machine (@vscode/test-electron). Not run in CI here: no
// registry ships desktop VS Code, so point VSCODE_EXECUTABLE at an installed `code` binary (or let test-electron
// download one where the network allows it). The same suite as the code-server tier runs (../../test/e2e-vscode/suite),
// against the sandbox; write test/e2e-vscode/artifacts/run-config.json first (`pnpm --filter @ray-connect/e2e-vscode test` does).
//   VSCODE_EXECUTABLE=/usr/bin/code pnpm --filter ray-connect run test:electron
import { runTests } from '@vscode/test-electron';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const extensionDevelopmentPath = join(here, '..');
const extensionTestsPath = join(here, '..', '..', 'test', 'e2e-vscode', 'suite', 'index.cjs');

const options = {
  extensionDevelopmentPath,
  extensionTestsPath,
  launchArgs: ['--disable-extensions', '--disable-workspace-trust'],
};
if (process.env.VSCODE_EXECUTABLE) options.vscodeExecutablePath = process.env.VSCODE_EXECUTABLE;

try {
  process.exitCode = await runTests(options);
} catch (e) {
  process.stderr.write(`desktop VS Code tests failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
}
