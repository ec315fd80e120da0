// Issue 14 item 4 in a real JupyterLab: browser sign-in from a page that is not on the server's host. Chromium opens
// the server as http://jupyter.test:<port>/ (playwright.config.mjs maps jupyter.test to 127.0.0.1), so the page
// counts as remote. This file starts its own JupyterLab (own port and agent state, RAY_CONNECT_BROWSER_REDIRECT=server)
// so the setting does not touch the server the other specs use.
// RC_E2E_OIDC_ISSUER / RC_E2E_APISERVER: a second instance of the sandbox provider (and an API server trusting it),
// for a run before the shared provider runs a script that lists the Jupyter callback.
import { expect, test, type Page } from '@playwright/test';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { approveDevice, readSandbox } from '../../sandbox/client.mjs';

interface Lab {
  child: import('node:child_process').ChildProcess;
  baseUrl: string;
}
interface StartJupyterLab {
  launchJupyterLab(o: {
    port: number;
    token: string;
    rootDir: string;
    kubeconfig: string;
    env: Record<string, string>;
    extraArgs: string[];
    logFile: string;
  }): Promise<Lab>;
  writeSandboxKubeconfig(file: string, sandbox: unknown): string;
}

const here = process.cwd(); // run.mjs runs Playwright in test/e2e-jupyterlab
const artifacts = join(here, 'artifacts');
mkdirSync(artifacts, { recursive: true });
const sandbox = readSandbox();
const issuer = process.env['RC_E2E_OIDC_ISSUER'] ?? sandbox.oidc.issuer;
const apiServer = process.env['RC_E2E_APISERVER'] ?? sandbox.apiServer;
const CLUSTER = 'li.rc-kind-cluster[aria-label^="sandbox,"]';
let work = '';
let lab: Lab | undefined;
let port = 0;

test.describe.configure({ mode: 'serial' });
// The provider's pages are https with the sandbox CA, which this browser does not know; the agent verifies TLS.
test.use({ ignoreHTTPSErrors: true });

function freePort(): Promise<number> {
  return new Promise((res) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => res(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

test.beforeAll(async () => {
  const start = (await import(
    pathToFileURL(resolve(here, '..', '..', 'scripts', 'start-jupyterlab.mjs')).href
  )) as StartJupyterLab;
  work = mkdtempSync(join(process.env['RC_E2E_WORK'] ?? tmpdir(), 'remote-sign-in-'));
  port = await freePort();
  lab = await start.launchJupyterLab({
    port,
    token: '',
    rootDir: join(work, 'notebooks'),
    kubeconfig: start.writeSandboxKubeconfig(join(work, 'kubeconfig'), { ...sandbox, apiServer }),
    env: {
      RAY_CONNECT_CONFIG_DIR: join(work, 'ray-connect'),
      RAY_CONNECT_OIDC_ISSUER: issuer,
      RAY_CONNECT_OIDC_CLIENT_ID: sandbox.oidc.clientId,
      RAY_CONNECT_OIDC_CA_FILE: sandbox.oidc.caFile,
      RAY_CONNECT_BROWSER_REDIRECT: 'server',
      JUPYTERLAB_GALATA_ROOT_DIR: join(work, 'notebooks'),
    },
    extraArgs: [
      `--config=${join(here, 'jupyter_server_test_config.py')}`,
      // the server still listens on 127.0.0.1 only; it answers the name the browser uses for it
      '--ServerApp.local_hostnames=localhost',
      '--ServerApp.local_hostnames=jupyter.test',
    ],
    logFile: join(work, 'jupyterlab.log'),
  });
});

test.afterAll(async () => {
  const child = lab?.child;
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
  if (work) rmSync(work, { recursive: true, force: true });
});

const remoteUrl = () => `http://jupyter.test:${port}/lab`;

async function openPanel(page: Page) {
  await page.goto(remoteUrl());
  const tab = page.locator('.lm-TabBar-tab[data-id="ray-connect-panel"]');
  await expect(tab).toBeVisible();
  // The restored layout may open the panel a moment later; clicking the tab of an open panel closes it.
  await expect(async () => {
    if (!(await page.locator('#ray-connect-panel').isVisible())) await tab.click();
    await expect(page.locator(`#ray-connect-panel ${CLUSTER}`)).toBeVisible({ timeout: 3000 });
  }).toPass({ timeout: 60_000 });
}

async function chooseSignIn(page: Page, label: string) {
  await page.locator(`${CLUSTER} > .rc-row .rc-action-signIn`).click();
  const dialog = page.locator('.jp-Dialog');
  await dialog.locator('select').selectOption({ label });
  await dialog.locator('.jp-mod-accept').click();
}

async function signOutIfSignedIn(page: Page) {
  const signOut = page.locator(`${CLUSTER} > .rc-row .rc-action-signOut`);
  if (await signOut.count()) {
    await signOut.click();
    await expect(page.locator(`${CLUSTER} > .rc-row .rc-action-signIn`)).toBeVisible();
  }
}

test('a remote page signs in with the browser through the Jupyter server callback', async ({
  page,
  context,
}) => {
  await openPanel(page);
  expect(await page.evaluate(() => location.hostname)).toBe('jupyter.test');
  await signOutIfSignedIn(page);
  const popup = context.waitForEvent('page');
  const authorize = context.waitForEvent('request', (r) => new URL(r.url()).searchParams.has('redirect_uri'));
  await chooseSignIn(page, 'Sign in with browser (OIDC or OpenShift)');
  const idp = await popup;
  // the provider was asked to send the browser back to this server, under its base URL, by the page's own name
  const asked = new URL((await authorize).url());
  expect(asked.origin).toBe(new URL(issuer).origin);
  expect(asked.searchParams.get('redirect_uri')).toBe(
    `http://jupyter.test:${port}/ray-connect/oauth/callback`,
  );
  await expect(page.locator('.jp-Dialog .rc-browser')).toBeVisible();
  // alice at the provider's login and consent pages
  await idp.locator('input[name="login"]').fill('alice');
  await idp.locator('input[name="password"]').fill(sandbox.users.alice.password);
  await idp.locator('button[type="submit"]').click();
  await idp.locator('button[type="submit"]', { hasText: 'Continue' }).click();
  // back at the Jupyter server: its page says it worked; the panel shows the sign-in
  await idp.waitForURL(/\/ray-connect\/oauth\/callback\?/);
  expect(new URL(idp.url()).host).toBe(`jupyter.test:${port}`);
  await expect(idp.locator('h1')).toHaveText('Signed in to sandbox');
  await expect(idp.locator('body')).toContainText('You can close this tab');
  await idp.screenshot({ path: join(artifacts, 'remote-01-callback-page.png') });
  await expect(page.locator('.jp-Dialog .rc-browser')).toHaveCount(0);
  await expect(page.locator(`${CLUSTER} > .rc-row`)).toContainText('oidc:alice');
  await page.screenshot({ path: join(artifacts, 'remote-02-signed-in.png') });
  // a reloaded callback page (the code is spent) says so, with the fix, and changes nothing
  await idp.reload();
  await expect(idp.locator('h1')).toHaveText('This sign-in is no longer in progress');
  await expect(idp.locator('body')).toContainText('Start the sign-in again');
  await idp.close();
  await expect(page.locator(`${CLUSTER} > .rc-row`)).toContainText('oidc:alice');
  await signOutIfSignedIn(page);
});

test('server redirect off: a remote page is offered device code with the reason, and it completes', async ({
  page,
}) => {
  // The server reports browser_redirect "auto" (what a server without the setting says).
  await page.route('**/ray-connect/version**', async (route) => {
    // route.fetch runs in this process, where jupyter.test does not resolve
    const url = new URL(route.request().url());
    url.hostname = '127.0.0.1';
    const response = await route.fetch({ url: url.href });
    const body = (await response.json()) as Record<string, unknown>;
    await route.fulfill({ response, json: { ...body, browserRedirect: 'auto' } });
  });
  await openPanel(page);
  await signOutIfSignedIn(page);
  let opened = false;
  page.context().on('page', () => (opened = true));
  await chooseSignIn(page, 'Sign in with browser (OIDC or OpenShift)');
  const offer = page.locator('.jp-Dialog .rc-device-offer');
  await expect(offer).toBeVisible();
  await expect(offer.locator('.rc-device-offer-reason')).toContainText(
    "this page is not on the Jupyter server's machine",
  );
  await expect(offer.locator('.rc-device-offer-reason')).toContainText('RayConnectApp.browser_redirect');
  await page.screenshot({ path: join(artifacts, 'remote-03-device-offered.png') });
  expect(opened, 'no sign-in page was opened for a flow that cannot finish').toBe(false);
  await page.locator('.jp-Dialog .jp-mod-accept', { hasText: 'Use device code' }).click();
  const code = page.locator('.jp-Dialog .rc-device-code');
  await expect(code).toBeVisible();
  await approveDevice({ userCode: (await code.textContent()) ?? '', user: 'alice', issuer });
  await expect(page.locator('.jp-Dialog .rc-device-code')).toHaveCount(0);
  await expect(page.locator(`${CLUSTER} > .rc-row`)).toContainText('oidc:alice');
  await signOutIfSignedIn(page);
});

test('a browser sign-in with no answer says so after 20 s and offers device code (nothing waits silently)', async ({
  page,
  context,
}) => {
  // The loopback listener as the way back (browserRedirect "loopback"); the user never finishes at the provider.
  await page.clock.install();
  await page.route('**/ray-connect/version**', async (route) => {
    const url = new URL(route.request().url());
    url.hostname = '127.0.0.1';
    const response = await route.fetch({ url: url.href });
    const body = (await response.json()) as Record<string, unknown>;
    await route.fulfill({ response, json: { ...body, browserRedirect: 'loopback' } });
  });
  await openPanel(page);
  await signOutIfSignedIn(page);
  const popup = context.waitForEvent('page');
  await chooseSignIn(page, 'Sign in with browser (OIDC or OpenShift)');
  await (await popup).close();
  const dialog = page.locator('.jp-Dialog .rc-browser');
  await expect(dialog).toBeVisible();
  await expect(dialog.locator('.rc-browser-hint')).toHaveCount(0);
  await page.clock.fastForward(21_000);
  await expect(dialog.locator('.rc-browser-hint')).toContainText('Still waiting for the sign-in page');
  await page.screenshot({ path: join(artifacts, 'remote-04-browser-hint.png') });
  await dialog.locator('.rc-browser-use-device').click();
  await expect(page.locator('.jp-Dialog .rc-device-code')).toBeVisible();
  await expect(page.locator('.jp-Dialog .rc-browser')).toHaveCount(0);
  await page.locator('.jp-Dialog .jp-mod-reject').click();
  await expect(page.locator('.jp-Dialog')).toHaveCount(0);
  await expect(page.locator(`${CLUSTER} > .rc-row`)).toContainText('signed out');
});
