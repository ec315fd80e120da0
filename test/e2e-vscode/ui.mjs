// UI test: the packaged .vsix installed into a fresh VS Code server; Chromium drives the real workbench:
// open the Ray view, click "Paste a token" in its welcome view, type a token, see every sandbox Ray cluster.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { cacheDir, codeServerBin, node24 } from './scripts/install.mjs';
import { freePort, startServer } from './helpers/server.mjs';
import { launchBrowser } from './helpers/browser.mjs';
import { writeKubeconfig, writeWorkspace } from './helpers/workspace.mjs';

export function installVsix(vsix, extensionsDir, userDataDir) {
  mkdirSync(extensionsDir, { recursive: true });
  const r = spawnSync(
    node24,
    [
      codeServerBin,
      '--install-extension',
      vsix,
      '--force',
      '--extensions-dir',
      extensionsDir,
      '--user-data-dir',
      userDataDir,
    ],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`code-server --install-extension failed: ${r.stdout}${r.stderr}`);
}

export async function runUiTest({ sandbox, vsix, artifacts, root, record }) {
  let step = 'ui: open the Ray view, sign in with a token, see the Ray clusters (screenshot)';
  const client = await import(pathToFileURL(join(root, 'test', 'sandbox', 'client.mjs')).href);
  const workDir = mkdtempSync(join(cacheDir, 'e2e-vscode-ui-'));
  const extensionsDir = join(workDir, 'extensions');
  installVsix(vsix, extensionsDir, join(workDir, 'server', 'user'));
  const folder = writeWorkspace(join(workDir, 'workspace'), sandbox);
  const kubeconfig = writeKubeconfig(join(workDir, 'kubeconfig'), sandbox);
  const port = await freePort();
  const server = await startServer({
    port,
    dataDir: join(workDir, 'server'),
    extensionsDir,
    env: { KUBECONFIG: kubeconfig },
    smokeTestDriver: false,
  });
  const browser = await launchBrowser();
  mkdirSync(artifacts, { recursive: true });
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  try {
    await page.goto(`${server.url}/?folder=${encodeURIComponent(folder)}`);
    await page.locator('.monaco-workbench').waitFor({ timeout: 120_000 });
    // The "Ray" view container in the activity bar.
    const rayIcon = page
      .locator('.activitybar .action-item a[aria-label^="Ray"], .activitybar .action-item[aria-label^="Ray"]')
      .first();
    await rayIcon.waitFor({ timeout: 60_000 });
    await rayIcon.click();
    // Welcome content of the "Sign In" view: buttons from package.json viewsWelcome.
    const paste = page.getByRole('button', { name: 'Paste a token' });
    await paste.waitFor({ timeout: 60_000 });
    await page.screenshot({ path: join(artifacts, 'ui-1-welcome.png') });
    const token = await client.createToken(sandbox.namespace, sandbox.serviceAccounts.rayUser.name);
    await paste.click();
    const input = page
      .locator('.quick-input-widget input[type="password"], .quick-input-widget input')
      .first();
    await input.waitFor({ timeout: 30_000 });
    await input.fill(token);
    await input.press('Enter');
    // Every sandbox RayCluster appears as a row of the Clusters tree, with its auth mode.
    for (const name of Object.values(sandbox.rayClusters)) {
      await page.locator('.monaco-list-row', { hasText: name }).first().waitFor({ timeout: 90_000 });
    }
    await page.screenshot({ path: join(artifacts, 'ui-2-clusters.png') });
    const rows = await page.locator('.monaco-list-row').allInnerTexts();
    if (!rows.some((r) => /raycluster-rbac/.test(r) && /Kubernetes RBAC/.test(r)))
      throw new Error(`tree rows: ${rows.join(' | ')}`);
    record('ui: open the Ray view, sign in with a token, see the Ray clusters (screenshot)', 'passed');
    step = 'ui: Connect from the inline button; the status bar shows the Ray cluster (screenshot)';
    // Inline actions show on hover: the row's "Connect" button, then the status bar item and the Dashboard row.
    const row = page.locator('.monaco-list-row', { hasText: sandbox.rayClusters.token }).first();
    await row.hover();
    await row.locator('.action-label[aria-label^="Connect"]').first().click();
    await page
      .locator('.statusbar-item', { hasText: `Ray: ${sandbox.rayClusters.token}` })
      .first()
      .waitFor({ timeout: 90_000 });
    await page.locator('.monaco-list-row[aria-label^="Dashboard http"]').first().waitFor({ timeout: 30_000 });
    await page.screenshot({ path: join(artifacts, 'ui-3-connected.png') });
    record(step, 'passed');
  } catch (e) {
    record(step, 'failed', e.stack ?? e);
    await page.screenshot({ path: join(artifacts, 'ui-failure.png') }).catch(() => undefined);
  } finally {
    await browser.close();
    await server.stop();
  }
}
