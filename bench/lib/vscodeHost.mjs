// Runs bench/vscode/activation-runner.cjs inside a real VS Code extension host (code-server's bundled server,
// driven by Chromium), with the e2e-vscode tier's own server and browser helpers (test/e2e-vscode/lib, not changed).
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** test/e2e-vscode/helpers (or lib, its earlier name): the tier's server and browser helpers. */
export function e2eHelpersDir(root) {
  for (const d of ['helpers', 'lib']) {
    const dir = join(root, 'test', 'e2e-vscode', d);
    if (existsSync(join(dir, 'server.mjs')) && existsSync(join(dir, 'browser.mjs'))) return dir;
  }
  return undefined;
}

export async function measureInExtensionHost(
  ctx,
  { rayClusters, namespace, profile = false, timeoutMs = 120_000, extensionPath, extensionId, name },
) {
  const lib = e2eHelpersDir(ctx.root);
  const install = join(ctx.root, 'test', 'e2e-vscode', 'scripts', 'install.mjs');
  if (!lib) throw new Error('the e2e-vscode helpers (server.mjs, browser.mjs) are not there');
  const inst = await import(pathToFileURL(install).href);
  if (!existsSync(inst.serverMain) || !existsSync(inst.node24)) throw new Error('code-server / Node 24 not installed (node test/e2e-vscode/scripts/install.mjs)');
  if (!existsSync(inst.chromium)) throw new Error(`Chromium not installed (${inst.chromium})`);
  const { startServer, freePort } = await import(pathToFileURL(join(lib, 'server.mjs')).href);
  const { launchBrowser } = await import(pathToFileURL(join(lib, 'browser.mjs')).href);

  const work = join(ctx.tmp, name ?? (profile ? 'vscode-profile' : 'vscode'));
  const folder = join(work, 'workspace');
  mkdirSync(folder, { recursive: true });
  const outFile = join(work, 'metrics.json');
  const port = await freePort();
  const server = await startServer({
    port,
    dataDir: join(work, 'data'),
    env: {
      KUBECONFIG: ctx.kubeconfig,
      RC_BENCH_VSCODE_OUT: outFile,
      RC_BENCH_VSCODE_RAYCLUSTERS: JSON.stringify(rayClusters),
      RC_BENCH_VSCODE_NAMESPACE: namespace,
      ...(profile ? { RC_BENCH_VSCODE_PROFILE: '1' } : {}),
      ...(extensionId ? { RC_BENCH_VSCODE_EXTENSION_ID: extensionId } : {}),
    },
  });
  let browser;
  try {
    browser = await launchBrowser();
    const page = await browser.newPage();
    const exit = new Promise((resolve) => {
      void page.exposeFunction('codeAutomationExit', (code) => resolve(code));
    });
    await page.exposeFunction('codeAutomationLog', () => undefined);
    const remote = (p) => `vscode-remote://127.0.0.1:${port}${p}`;
    const payload = [
      ['extensionDevelopmentPath', remote(extensionPath ?? join(ctx.root, 'extension-vscode'))],
      ['extensionTestsPath', remote(join(ctx.benchDir, 'vscode', 'activation-runner.cjs'))],
    ];
    const url = `${server.url}/?folder=${encodeURIComponent(folder)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
    await page.goto(url);
    let timer;
    const code = await Promise.race([
      exit,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`the extension host did not finish within ${timeoutMs / 1000} s (see ${server.log})`)), timeoutMs);
      }),
    ]).finally(() => clearTimeout(timer));
    if (!existsSync(outFile)) throw new Error(`the runner wrote no metrics (exit ${code}; see ${server.log})`);
    return JSON.parse(readFileSync(outFile, 'utf8'));
  } finally {
    await browser?.close().catch(() => undefined);
    await server.stop();
  }
}
