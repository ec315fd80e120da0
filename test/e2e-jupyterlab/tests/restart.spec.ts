// Issue 9 faults in a real JupyterLab: the Ray Connect agent process killed while the page is open, and the Jupyter
// server restarted under the page. This file starts its own JupyterLab (own port, own agent state dir) so it can
// kill and restart it without touching the server the other specs use; the agent is found by that state dir.
import { expect, test, type Page } from '@playwright/test';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createToken, readSandbox } from '../../sandbox/client.mjs';

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
const NS: string = sandbox.namespace;
const CLUSTER = 'li.rc-kind-cluster[aria-label^="sandbox,"]';
// made in beforeAll: Playwright also loads this file in its main process, which runs no hook
let work = '';
let configDir = '';
let start: StartJupyterLab;
let lab: Lab | undefined;
let port = 0;

test.describe.configure({ mode: 'serial' });

function freePort(): Promise<number> {
  return new Promise((res) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => res(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

async function launch(): Promise<Lab> {
  return start.launchJupyterLab({
    port,
    token: '',
    rootDir: join(work, 'notebooks'),
    kubeconfig: join(work, 'kubeconfig'),
    env: {
      RAY_CONNECT_CONFIG_DIR: configDir,
      RAY_CONNECT_OIDC_ISSUER: sandbox.oidc.issuer,
      RAY_CONNECT_OIDC_CLIENT_ID: sandbox.oidc.clientId,
      RAY_CONNECT_OIDC_CA_FILE: sandbox.oidc.caFile,
      JUPYTERLAB_GALATA_ROOT_DIR: join(work, 'notebooks'),
    },
    extraArgs: [`--config=${join(here, 'jupyter_server_test_config.py')}`],
    logFile: join(work, 'jupyterlab.log'),
  });
}

async function stopLab(): Promise<void> {
  const child = lab?.child;
  lab = undefined;
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

/** Pids of this server's agent: `... serve --port 0` with our RAY_CONNECT_CONFIG_DIR in its environment. */
function agentPids(): number[] {
  const want = `\0RAY_CONNECT_CONFIG_DIR=${configDir}\0`;
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (!cmd.includes('serve')) continue;
      const env = `\0${readFileSync(`/proc/${entry}/environ`, 'utf8')}`;
      if (env.includes(want)) pids.push(Number(entry));
    } catch {
      // gone
    }
  }
  return pids;
}

/** Errors the page must never show: uncaught exceptions, and stack traces in the Ray panel or a dialog. */
function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  return errors;
}

async function noStackTraceShown(page: Page) {
  const text =
    (await page.locator('#ray-connect-panel').innerText()) +
    (await page.locator('.jp-Dialog').allInnerTexts()).join('\n');
  expect(text).not.toMatch(/Traceback|at [\w.]+ \(|\.py", line \d+|Error: .*\n\s+at /);
}

async function openPanel(page: Page) {
  // the restored layout may already show the panel: clicking its tab then would close it
  await page.waitForFunction(() => 'jupyterapp' in window);
  await page.evaluate(async () => {
    await (window as unknown as { jupyterapp: { restored: Promise<void> } }).jupyterapp.restored;
  });
  if (!(await page.locator('#ray-connect-panel').isVisible()))
    await page.locator('.lm-TabBar-tab[data-id="ray-connect-panel"]').click();
  await expect(page.locator(`#ray-connect-panel ${CLUSTER}`)).toBeVisible();
}

async function signInWithToken(page: Page) {
  const token: string = await createToken(NS, 'ray-user', { expirationSeconds: 600 });
  await page.locator(`${CLUSTER} > .rc-row .rc-action-signIn`).click();
  const dialog = page.locator('.jp-Dialog');
  await dialog.locator('select').selectOption({ label: 'Paste a token' });
  await dialog.locator('.jp-mod-accept').click();
  await page.locator('.jp-Dialog .rc-token-input').fill(token);
  await page.locator('.jp-Dialog .jp-mod-accept').click();
  await expect(page.locator(`${CLUSTER} > .rc-row`)).toContainText(`system:serviceaccount:${NS}:ray-user`);
  await expect(page.locator('li.rc-kind-rayCluster[aria-label^="raycluster-noauth,"]')).toBeVisible();
}

test.beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'rc-e2e-restart-'));
  configDir = join(work, 'ray-connect');
  start = (await import(
    pathToFileURL(resolve(here, '..', '..', 'scripts', 'start-jupyterlab.mjs')).href
  )) as StartJupyterLab;
  start.writeSandboxKubeconfig(join(work, 'kubeconfig'), sandbox);
  port = await freePort();
  lab = await launch();
});

test.afterAll(async () => {
  await stopLab();
  rmSync(work, { recursive: true, force: true });
});

test('the agent killed while JupyterLab runs: restarted, the panel says so and signs in again', async ({
  page,
}) => {
  const errors = watchErrors(page);
  await page.goto(`${lab!.baseUrl}/lab`);
  await openPanel(page);
  await signInWithToken(page);
  const memoryOnly = /memory/i.test(await page.locator('#ray-connect-panel .rc-storage').innerText());
  const [pid] = agentPids();
  expect(pid, 'the agent of this JupyterLab').toBeGreaterThan(0);

  process.kill(pid, 'SIGKILL');

  const notice = page.locator('#ray-connect-panel .rc-notice-restarted');
  await expect(notice).toContainText('The Ray Connect agent stopped (exit code -9) and was restarted');
  if (memoryOnly) {
    await expect(notice).toContainText('Sign in again to sandbox');
    await expect(page.locator(`${CLUSTER} > .rc-row .rc-action-signIn`)).toBeVisible();
  } else {
    await expect(page.locator(`${CLUSTER} > .rc-row`)).toContainText(`system:serviceaccount:${NS}:ray-user`);
  }
  const [next] = agentPids();
  expect(next).toBeGreaterThan(0);
  expect(next).not.toBe(pid);
  await page.screenshot({ path: join(artifacts, 'restart-01-agent-killed.png') });
  await noStackTraceShown(page);
  await expect(page.locator('#ray-connect-panel .rc-error')).toHaveCount(0);

  // the panel works with the new agent: refresh answers, sign in again, dismiss the notice
  await page.locator('#ray-connect-panel .rc-header .rc-action-refresh').click();
  if (memoryOnly) await signInWithToken(page);
  await page.locator('#ray-connect-panel .rc-notice-dismiss').click();
  await expect(notice).toHaveCount(0);
  expect(errors).toEqual([]);
});

test('the Jupyter server restarted under the page: the panel says it is reconnecting, then reloads its state', async ({
  page,
}) => {
  const errors = watchErrors(page);
  await page.goto(`${lab!.baseUrl}/lab`);
  await openPanel(page);
  if (await page.locator(`${CLUSTER} > .rc-row .rc-action-signIn`).count()) await signInWithToken(page);
  const memoryOnly = /memory/i.test(await page.locator('#ray-connect-panel .rc-storage').innerText());

  await stopLab();
  expect(agentPids(), 'the agent stops with its server').toEqual([]);
  await expect(page.locator('#ray-connect-panel .rc-notice-lost')).toContainText('reconnecting');
  await page.screenshot({ path: join(artifacts, 'restart-02-server-down.png') });

  lab = await launch();
  const notice = page.locator('#ray-connect-panel .rc-notice-restarted');
  await expect(notice).toContainText('The Jupyter server was unreachable or restarted');
  await expect(page.locator('#ray-connect-panel .rc-notice-lost')).toHaveCount(0);
  if (memoryOnly) {
    await expect(notice).toContainText('Sign in again to sandbox');
    await expect(page.locator(`${CLUSTER} > .rc-row .rc-action-signIn`)).toBeVisible();
  }
  await expect(page.locator('#ray-connect-panel .rc-error')).toHaveCount(0);
  await page.screenshot({ path: join(artifacts, 'restart-03-server-back.png') });
  await noStackTraceShown(page);
  // JupyterLab's own "server connection" dialog, if it showed one, is not ours: close it to use the panel
  for (const b of await page.locator('.jp-Dialog .jp-mod-reject, .jp-Dialog .jp-mod-accept').all())
    await b.click().catch(() => undefined);
  if (memoryOnly) await signInWithToken(page);
  expect(errors).toEqual([]);
});
