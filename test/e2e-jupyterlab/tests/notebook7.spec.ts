// Issue 14 item 8: the Ray panel in Notebook 7 (the `notebook` package), driven in Chromium. Notebook 7 has no
// JupyterLab shell (ILabShell) and no status bar; its pages (tree, notebook) have a left side panel, collapsed, opened
// from View > Left Sidebar > Show Ray or the command palette. This file starts its own `jupyter notebook`
// (ownServer.ts): same venv, galata server config, sandbox kubeconfig and a fresh agent state dir.
import { expect, test, type Page } from '@playwright/test';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLUSTER, OwnServer, freePort, ray, signInWithToken, watchOurErrors } from './ownServer';

const artifacts = join(process.cwd(), 'artifacts');
mkdirSync(artifacts, { recursive: true });
const PANEL = '#ray-connect-panel';
const ENV_CELL =
  'import os; print("ADDR", os.environ.get("RAY_ADDRESS"), "MODE", os.environ.get("RAY_AUTH_MODE"), "TOKLEN", len(os.environ.get("RAY_AUTH_TOKEN") or ""))';
let server: OwnServer;

test.describe.configure({ mode: 'serial' });

test.beforeAll(async () => {
  server = new OwnServer('notebook', await freePort());
  await server.launch();
});

test.afterAll(async () => {
  await server?.dispose();
});

/** View > Left Sidebar > Show Ray: the entry Notebook 7 makes for every left side panel. */
async function showPanelFromViewMenu(page: Page) {
  await page.locator('.lm-MenuBar-itemLabel', { hasText: /^View$/ }).click();
  await page.locator('.lm-Menu-itemLabel', { hasText: /^Left Sidebar$/ }).hover();
  await page.locator('.lm-Menu-itemLabel', { hasText: /^Show Ray$/ }).click();
  await expect(page.locator(PANEL)).toBeVisible();
}

/**
 * View > Activate Command Palette (a key press would go to the notebook in command mode), then a query. A notebook
 * page that is still settling may take the focus back and close the palette: open it again, within a deadline.
 */
async function paletteItems(page: Page, query: string): Promise<string[]> {
  const items = page.locator('.lm-CommandPalette-item');
  await expect(async () => {
    if (!(await page.locator('.lm-CommandPalette-input').isVisible())) {
      await page.locator('.lm-MenuBar-itemLabel', { hasText: /^View$/ }).click();
      await page.locator('.lm-Menu-itemLabel', { hasText: /^Activate Command Palette$/ }).click();
    }
    await page.locator('.lm-CommandPalette-input').fill(query, { timeout: 5_000 });
    await expect(items.first()).toBeVisible({ timeout: 5_000 });
  }).toPass({ timeout: 60_000 });
  return items.allInnerTexts();
}

test('the tree page: the Ray panel from the View menu, commands in the palette, sign in with a pasted token, list and connect', async ({
  page,
}) => {
  const errors = watchOurErrors(page);
  await page.goto(`${server.baseUrl}/tree`);
  await expect(page.locator('.jp-DirListing')).toBeVisible();
  await expect(page.locator(PANEL)).toBeHidden(); // the left side panel starts collapsed
  await showPanelFromViewMenu(page);
  await expect(page.locator(`${PANEL} ${CLUSTER} > .rc-row`)).toContainText('signed out');
  await expect(page.locator(`${PANEL} .rc-storage`)).toContainText('Secrets are kept in');
  await expect(page.locator('.rc-status'), 'Notebook 7 has no status bar').toHaveCount(0);

  const items = (await paletteItems(page, 'Ray')).map((i) => i.split('\n')[0]);
  for (const title of ['Show Ray Panel', 'Connect to Ray Cluster...', 'Sign In...', 'Open Ray Dashboard'])
    expect(items, `palette: ${title}`).toContain(title);
  await page.keyboard.press('Escape');

  await signInWithToken(page);
  await expect(page.locator(ray('raycluster-token'))).toBeVisible();
  await expect(page.locator(`${ray('raycluster-token')} > .rc-row`)).toContainText('token auth');
  await page.locator(`${ray('raycluster-token')} > .rc-row .rc-action-connect`).click();
  await expect(page.locator(ray('raycluster-token'))).toHaveAttribute('data-state', 'connected');
  await expect(page.locator(`${ray('raycluster-token')} .rc-kind-detail`).first()).toContainText(
    'http://127.0.0.1:',
  );
  await page.screenshot({ path: join(artifacts, 'notebook7-01-tree-connected.png') });
  expect(errors).toEqual([]);
});

test('a notebook page: the panel shows the connection, and a kernel sees RAY_ADDRESS and the token', async ({
  page,
}) => {
  const errors = watchOurErrors(page);
  const notebook = {
    cells: [{ cell_type: 'code', execution_count: null, metadata: {}, outputs: [], source: [ENV_CELL] }],
    metadata: { kernelspec: { display_name: 'Python 3 (ipykernel)', language: 'python', name: 'python3' } },
    nbformat: 4,
    nbformat_minor: 5,
  };
  writeFileSync(join(server.work, 'notebooks', 'env.ipynb'), JSON.stringify(notebook));
  await page.goto(`${server.baseUrl}/notebooks/env.ipynb`);
  await expect(page.locator('.jp-Notebook .jp-Cell').first()).toBeVisible();
  await expect(page.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]')).toBeAttached();

  // the palette command opens the panel here too
  const items = (await paletteItems(page, 'Show Ray Panel')).map((i) => i.split('\n')[0]);
  expect(items).toContain('Show Ray Panel');
  await page.locator('.lm-CommandPalette-item', { hasText: 'Show Ray Panel' }).first().click();
  await expect(page.locator(PANEL)).toBeVisible();
  await expect(page.locator(ray('raycluster-token'))).toHaveAttribute('data-state', 'connected');

  // Run > Run All Cells: the kernel (started after connecting) has the env
  await page.locator('.lm-MenuBar-itemLabel', { hasText: /^Run$/ }).click();
  await page.locator('.lm-Menu-itemLabel', { hasText: /^Run All Cells$/ }).click();
  const output = page.locator('.jp-Cell .jp-OutputArea-output').first();
  await expect(output).toContainText(/ADDR http:\/\/127\.0\.0\.1:\d+ MODE token TOKLEN [1-9]/, {
    timeout: 120_000,
  });
  await page.screenshot({ path: join(artifacts, 'notebook7-02-kernel-env.png') });
  expect(errors).toEqual([]);
});
