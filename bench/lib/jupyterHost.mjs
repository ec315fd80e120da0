// Panel render time in a real JupyterLab (the jupyter venv the e2e/unit tiers set up under $RC_CACHE) driven by
// Debian Chromium through playwright-core (the e2e-vscode tier's browser helper). The agent is the built CLI
// bundle when the wheel has no agent of its own (RAY_CONNECT_AGENT_COMMAND, the server extension's override).
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { findAgent } from './agent.mjs';
import { freePort, startChild, stopChild } from './proc.mjs';
import { e2eHelpersDir } from './vscodeHost.mjs';

export async function measurePanelRender(ctx, { kubeconfig, expect, timeoutMs = 90_000 }) {
  // The venv is shared by every checkout on this machine (CI runs in a clone): point its editable install and
  // labextension at this one (idempotent; what `pnpm start` and the e2e tier do too).
  const { installExtension } = await import(pathToFileURL(join(ctx.root, 'scripts', 'start-jupyterlab.mjs')).href);
  const venvPython = installExtension((line) => ctx.log(`jupyterlab: ${line}`));
  const venv = join(venvPython, '..', '..');
  const jupyter = join(venv, 'bin', 'jupyter');
  if (!existsSync(jupyter)) throw new Error(`no JupyterLab venv at ${venv}`);
  const helpers = e2eHelpersDir(ctx.root);
  if (!helpers) throw new Error('no Chromium helper (test/e2e-vscode/helpers/browser.mjs)');
  const { launchBrowser } = await import(pathToFileURL(join(helpers, 'browser.mjs')).href);
  const agentJs = findAgent(ctx.root);
  if (!agentJs) throw new Error('no agent built');

  const work = join(ctx.tmp, 'jupyter');
  mkdirSync(join(work, 'root'), { recursive: true });
  mkdirSync(join(work, 'config'), { recursive: true });
  writeFileSync(join(work, 'config', 'jupyter_server_config.json'), JSON.stringify({ ServerApp: { jpserver_extensions: { ray_connect_jupyterlab: true } } }));
  const port = await freePort();
  const env = {
    ...process.env,
    KUBECONFIG: kubeconfig,
    JUPYTER_CONFIG_DIR: join(work, 'config'),
    JUPYTER_RUNTIME_DIR: join(work, 'runtime'),
    JUPYTERLAB_WORKSPACES_DIR: join(work, 'workspaces'),
    JUPYTERLAB_SETTINGS_DIR: join(work, 'settings'),
    PATH: `${join(venv, 'bin')}:${process.env.PATH}`,
  };
  if (!agentJs.includes('ray_connect_jupyterlab')) env.RAY_CONNECT_AGENT_COMMAND = JSON.stringify([process.execPath, agentJs, 'serve', '--port', '0']);
  const lab = await startChild(
    jupyter,
    ['lab', '--no-browser', '--allow-root', `--port=${port}`, '--ServerApp.ip=127.0.0.1', "--IdentityProvider.token=", '--ServerApp.password=', `--ServerApp.root_dir=${join(work, 'root')}`],
    { env, ready: /Jupyter Server .* is running at|http:\/\/127\.0\.0\.1:\d+\/lab/, timeoutMs: 60_000 },
  );
  let browser;
  try {
    browser = await launchBrowser();
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await page.goto(`http://127.0.0.1:${port}/lab`, { timeout: 60_000 });
    const tab = page.locator('.jp-SideBar [data-id="ray-connect-panel"]').first();
    await tab.waitFor({ timeout: 60_000 });
    // Open the panel and time, in the page, from the click to `expect` Ray cluster rows in the DOM (expanding
    // collapsed nodes as a user would).
    const t0 = await page.evaluate(() => performance.now());
    await tab.click();
    const deadline = Date.now() + timeoutMs;
    let rows = 0;
    for (;;) {
      rows = await page.locator('#ray-connect-panel li.rc-kind-rayCluster').count();
      if (rows >= expect) break;
      const collapsed = page.locator('#ray-connect-panel li[aria-expanded="false"] > .rc-row');
      if ((await collapsed.count()) > 0) await collapsed.first().click();
      if (Date.now() > deadline) {
        const text = await page.locator('#ray-connect-panel').innerText().catch(() => '(no panel)');
        throw new Error(`only ${rows} of ${expect} Ray cluster rows after ${timeoutMs / 1000} s; the panel says: ${text.replace(/\s+/g, ' ').slice(0, 300)}`);
      }
      await page.waitForTimeout(20);
    }
    const t1 = await page.evaluate(() => performance.now());
    // Pure re-render: the panel's refresh command if it has one is not public; a second open is cached data.
    return { openToRowsMs: t1 - t0, rows };
  } finally {
    await browser?.close().catch(() => undefined);
    await stopChild(lab.child, 5000);
  }
}
