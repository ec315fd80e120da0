// Extension tests in a desktop VS Code on a developer's machine (@vscode/test-electron). Not run in CI here: no
// registry ships desktop VS Code, so point VSCODE_EXECUTABLE at an installed `code` binary (or let test-electron
// download one, VSCODE_VERSION or the latest stable, where the network allows it). The same suites as the
// code-server tier (../../test/e2e-vscode/suite) run against the sandbox (`pnpm sandbox up` first), with the same
// per-run kubeconfig (one context, no credentials) and workspace settings (sandbox CA and OIDC issuer).
//   pnpm --filter ray-connect run build
//   VSCODE_EXECUTABLE=/usr/bin/code pnpm --filter ray-connect run test:electron              # the default suite
//   VSCODE_EXECUTABLE=/usr/bin/code pnpm --filter ray-connect run test:electron -- rotation  # the token refresh (slow)
//   node test-electron/run.mjs --print-config                                  # what it would run, without VS Code
// Results: <work dir>/suite-results.json and suite.log (the work dir is printed).
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const e2e = join(root, 'test', 'e2e-vscode');
const suite = process.argv.slice(2).find((a) => !a.startsWith('-')) ?? 'extension';
const cacheDir = process.env.RC_CACHE ?? join(homedir(), '.cache', 'ray-connect');

const { readSandbox } = await import(pathToFileURL(join(root, 'test', 'sandbox', 'client.mjs')).href);
const { writeKubeconfig, writeWorkspace } = await import(
  pathToFileURL(join(e2e, 'helpers', 'workspace.mjs')).href
);

const sandbox = readSandbox();
mkdirSync(cacheDir, { recursive: true });
const workDir = mkdtempSync(join(cacheDir, 'e2e-vscode-electron-'));
const folder = writeWorkspace(join(workDir, 'workspace'), sandbox);
const kubeconfig = writeKubeconfig(join(workDir, 'kubeconfig'), sandbox);
const configFile = join(workDir, 'run-config.json');
writeFileSync(
  configFile,
  JSON.stringify(
    {
      suite,
      workDir,
      resultsFile: join(workDir, 'suite-results.json'),
      sandboxClient: join(root, 'test', 'sandbox', 'client.mjs'),
      rayBin: join(cacheDir, 'ray-venv', 'bin', 'ray'),
    },
    null,
    2,
  ),
);

const options = {
  extensionDevelopmentPath: join(here, '..'),
  extensionTestsPath: join(e2e, 'suite', 'index.cjs'),
  // The workspace folder first; a throwaway user data dir so the developer's own profile and secrets are untouched.
  launchArgs: [
    folder,
    '--disable-extensions',
    '--disable-workspace-trust',
    '--user-data-dir',
    join(workDir, 'server', 'user'), // the suites look for the extension's log under <work dir>/server
  ],
  extensionTestsEnv: {
    KUBECONFIG: kubeconfig,
    RC_E2E_RUN_CONFIG: configFile,
    RC_E2E_TOKEN_TTL: String(sandbox.oidc?.tokenTtlSeconds ?? 600),
  },
};
if (process.env.VSCODE_EXECUTABLE) options.vscodeExecutablePath = process.env.VSCODE_EXECUTABLE;
else if (process.env.VSCODE_VERSION) options.version = process.env.VSCODE_VERSION;

process.stderr.write(`desktop VS Code tests (${suite}); work dir ${workDir}\n`);
if (process.argv.includes('--print-config')) {
  process.stdout.write(`${JSON.stringify(options, null, 2)}\n`);
} else {
  const { runTests } = await import('@vscode/test-electron');
  try {
    process.exitCode = await runTests(options);
  } catch (e) {
    process.stderr.write(
      `desktop VS Code tests failed: ${e instanceof Error ? e.message : String(e)} (see ${join(workDir, 'suite.log')})\n`,
    );
    process.exitCode = 1;
  }
}
