// Ray Connect in a real JupyterLab against the sandbox (run by ../run.mjs). Serial: sign-in state lives in the agent.
// Tests never write a token anywhere: cells and terminals print only names, lengths and job states.
import { test } from '@jupyterlab/galata/lib/fixtures.js';
import { expect } from '@playwright/test';
import type { Page } from '@playwright/test';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { approveDevice, createToken, kubectl, readSandbox } from '../../sandbox/client.mjs';
import { leakSearch } from './leakSearch';

const artifacts = join(process.cwd(), 'artifacts');
mkdirSync(artifacts, { recursive: true });
const notebooksDir = process.env.RC_E2E_NOTEBOOKS ?? '';
const sandbox = readSandbox();
const NS: string = sandbox.namespace;
const CLUSTER = 'li.rc-kind-cluster[aria-label^="sandbox,"]';
const ray = (name: string) => `li.rc-kind-rayCluster[aria-label^="${name},"]`;
/** Secrets of the run, for the leak search at the end: in memory only, never written or printed. */
const secrets = new Set<string>();

test.describe.configure({ mode: 'serial' });
// No galata API mocks: its kernels mock answers a kernel restart with 201, which JupyterLab 4.6 rejects.
// serverFiles 'on': each test's tmpPath (its notebooks) stays in the server root for the leak search at the end
// (run.mjs empties the root at the start).
test.use({ autoGoto: true, serverFiles: 'on', kernels: null, sessions: null, terminals: null });

async function openPanel(page: Page) {
  // Clicking the tab of an open panel closes it.
  if (!(await page.locator('#ray-connect-panel').isVisible()))
    await page.locator('.lm-TabBar-tab[data-id="ray-connect-panel"]').click();
  await expect(page.locator('#ray-connect-panel')).toBeVisible();
  await expect(page.locator(`#ray-connect-panel ${CLUSTER}`)).toBeVisible();
}

async function shot(page: Page, name: string) {
  await page.screenshot({ path: join(artifacts, `${name}.png`) });
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

/** Runs one cell (replacing cell 0) and returns its text output. */
async function runCell(page: Page, code: string): Promise<string> {
  await page.notebook.setCell(0, 'code', code);
  await page.notebook.runCell(0, true);
  return ((await page.notebook.getCellTextOutput(0)) ?? []).join('\n');
}

/** Runs `code` until its output matches (env changes reach a running kernel through a silent execute). */
async function cellUntil(page: Page, code: string, pattern: RegExp): Promise<string> {
  let out = '';
  for (let i = 0; i < 60; i++) {
    out = await runCell(page, code);
    if (pattern.test(out)) return out;
    await page.waitForTimeout(1000);
  }
  throw new Error(`cell output never matched ${pattern}: ${out}`);
}

/** Opens a new terminal and writes the names of its RAY_* variables and the token's length to `file`. */
async function terminalEnv(page: Page, file: string): Promise<string> {
  const path = join(notebooksDir, file);
  rmSync(path, { force: true });
  await execute(page, 'terminal:create-new');
  const term = page.locator('.jp-Terminal').last();
  await expect(term).toBeVisible();
  await page.waitForTimeout(1000); // the shell prints its prompt
  await term.click();
  await page.keyboard.type(
    `cd "${notebooksDir}"; (env | grep '^RAY_' | sed 's/=.*//' | sort; echo "token-length=\${#RAY_AUTH_TOKEN}") > ${file}.tmp && mv ${file}.tmp ${file}\n`,
  );
  for (let i = 0; i < 60 && !existsSync(path); i++) await page.waitForTimeout(500);
  return readFileSync(path, 'utf8');
}

/** Runs `command` in a new terminal with its output (stdout and stderr, no secrets) written to `file`. */
async function terminalRun(page: Page, command: string, file: string): Promise<string> {
  const path = join(notebooksDir, file);
  rmSync(path, { force: true });
  await execute(page, 'terminal:create-new');
  const term = page.locator('.jp-Terminal').last();
  await expect(term).toBeVisible();
  await page.waitForTimeout(1000); // the shell prints its prompt
  await term.click();
  await page.keyboard.type(
    `cd "${notebooksDir}"; (${command}; echo "exit=$?") > ${file}.tmp 2>&1; mv ${file}.tmp ${file}; exit\n`,
  );
  for (let i = 0; i < 60 && !existsSync(path); i++) await page.waitForTimeout(500);
  return readFileSync(path, 'utf8');
}

const JOB_CELL = [
  'import time',
  'from ray.job_submission import JobSubmissionClient, JobStatus',
  'client = JobSubmissionClient()',
  'job = client.submit_job(entrypoint="python -c \'print(6 * 7)\'")',
  'status = None',
  'for _ in range(300):',
  '    status = client.get_job_status(job)',
  '    if status in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.STOPPED):',
  '        break',
  '    time.sleep(1)',
  'print("JOB", status, client.get_job_logs(job).strip().splitlines()[-1:])',
].join('\n');
/** Cells are typed into the editor, which auto-indents: run multi-line code through exec of a JSON (= Python) string. */
const asOneLine = (code: string) => `exec(${JSON.stringify(code)})`;

type App = { commands: { execute(id: string, args?: Record<string, unknown>): Promise<unknown> } };
async function execute(page: Page, id: string, args: Record<string, unknown> = {}) {
  // The command's result (often a widget) stays in the page: it cannot be serialised.
  await page.evaluate(
    async ([i, a]) => {
      await (window as unknown as { jupyterapp: App }).jupyterapp.commands.execute(
        i as string,
        a as Record<string, unknown>,
      );
    },
    [id, args] as const,
  );
}

const ENV_CELL =
  'import os; print("ADDR", os.environ.get("RAY_ADDRESS"), "MODE", os.environ.get("RAY_AUTH_MODE"), "TOKLEN", len(os.environ.get("RAY_AUTH_TOKEN") or ""))';

test('the Ray panel shows the sandbox cluster, signed out, in light and dark themes', async ({ page }) => {
  await openPanel(page);
  await signOutIfSignedIn(page);
  await expect(page.locator(`${CLUSTER} > .rc-row`)).toContainText('signed out');
  await expect(page.locator('#ray-connect-panel .rc-storage')).toContainText('Secrets are kept in');
  await expect(page.locator('.rc-status')).toContainText('Ray:');
  await shot(page, '01-panel-signed-out');
  await execute(page, 'apputils:change-theme', { theme: 'JupyterLab Dark' });
  await page.waitForTimeout(1500);
  await shot(page, '01-panel-signed-out-dark');
  await execute(page, 'apputils:change-theme', { theme: 'JupyterLab Light' });
  await page.waitForTimeout(1500);
});

test('the commands are in the palette', async ({ page }) => {
  await page.keyboard.press('Control+Shift+C');
  await page.keyboard.type('Ray');
  await expect(
    page.locator('.lm-CommandPalette-item', { hasText: 'Sign In with Device Code' }),
  ).toBeVisible();
  await expect(page.locator('.lm-CommandPalette-item', { hasText: 'Connect to Ray Cluster' })).toBeVisible();
  await shot(page, '02-palette');
  await page.keyboard.press('Escape');
});

test('sign in with a token shows the identity and the sandbox RayClusters', async ({ page }) => {
  await openPanel(page);
  await signOutIfSignedIn(page);
  const token: string = await createToken(NS, 'ray-user', { expirationSeconds: 600 });
  secrets.add(token);
  await chooseSignIn(page, 'Paste a token');
  await page.locator('.jp-Dialog .rc-token-input').fill(token);
  await page.locator('.jp-Dialog .jp-mod-accept').click();
  await expect(page.locator(`${CLUSTER} > .rc-row`)).toContainText(`system:serviceaccount:${NS}:ray-user`);
  for (const name of ['raycluster-token', 'raycluster-rbac', 'raycluster-noauth']) {
    await expect(page.locator(ray(name))).toBeVisible();
  }
  await expect(page.locator(`${ray('raycluster-token')} > .rc-row`)).toContainText('token auth');
  await expect(page.locator(`${ray('raycluster-rbac')} > .rc-row`)).toContainText('Kubernetes RBAC');
  await shot(page, '03-signed-in-token');
  await signOutIfSignedIn(page);
});

test('sign in with device code, approved in the identity provider', async ({ page }) => {
  await openPanel(page);
  await signOutIfSignedIn(page);
  await chooseSignIn(page, 'Sign in with device code (OIDC)');
  const code = page.locator('.jp-Dialog .rc-device-code');
  await expect(code).toBeVisible();
  await expect(page.locator('.jp-Dialog .rc-device-copy-open')).toBeVisible();
  await expect(page.locator('.jp-Dialog progress')).toBeVisible();
  await shot(page, '04-device-code');
  const userCode = (await code.innerText()).trim();
  await approveDevice({ userCode, user: 'alice' });
  await expect(page.locator('.jp-Dialog .rc-device-code')).toHaveCount(0);
  await expect(page.locator(`${CLUSTER} > .rc-row`)).toContainText('alice');
  await expect(page.locator(ray('raycluster-token'))).toBeVisible();
  await shot(page, '05-signed-in-device');
});

test("a terminal's ray-connect (the package's console script) uses the panel's sign-in; both say how long it lasts", async ({
  page,
}) => {
  await openPanel(page);
  await expect(page.locator(`${CLUSTER} > .rc-row`)).toContainText('alice');
  await expect(page.locator('#ray-connect-panel .rc-storage-reason')).toContainText(
    'until this Jupyter server stops',
  );
  await expect(page.locator('#ray-connect-panel .rc-storage-reason')).toContainText(
    'RAY_CONNECT_SECRET_STORE=file',
  );
  const bin = join(process.env.RC_E2E_VENV_BIN ?? '', 'ray-connect');
  const who = await terminalRun(page, `"${bin}" whoami`, 'cli-whoami.txt');
  expect(who).toMatch(/oidc:alice on sandbox/);
  expect(who).toMatch(/agent of your Jupyter server \(pid \d+\)/);
  expect(who).toContain('exit=0');
  const clusters = await terminalRun(page, `"${bin}" clusters`, 'cli-clusters.txt');
  expect(clusters).toMatch(/raycluster-token\s+ready/);
  await shot(page, '05b-terminal-cli');
});

test('connect: a running kernel, a new kernel and a new terminal get the env; a job succeeds; a restart keeps a working token; sign out removes it', async ({
  page,
}) => {
  // The longest story of the tier (two jobs, a restart, three kernels, two terminals): on a loaded 2-core machine it
  // took over the default 300 s.
  test.setTimeout(600_000);
  await openPanel(page);
  await expect(page.locator(`${CLUSTER} > .rc-row`)).toContainText('alice');
  // A kernel that runs before connecting: the Jupyter server gives it the env (a silent execute of its own; the page
  // never receives the token).
  await page.notebook.createNew('before.ipynb');
  expect(await runCell(page, ENV_CELL)).toContain('ADDR None');

  await page.locator(`${ray('raycluster-token')} > .rc-row .rc-action-connect`).click();
  await expect(page.locator(ray('raycluster-token'))).toHaveAttribute('data-state', 'connected');
  await expect(page.locator(`${ray('raycluster-token')} .rc-kind-detail`).first()).toContainText(
    'http://127.0.0.1:',
  );
  await expect(page.locator('.rc-status')).toContainText('raycluster-token');
  await shot(page, '06-connected');

  const out = await cellUntil(page, ENV_CELL, /ADDR http:\/\/127\.0\.0\.1:\d+ MODE token TOKLEN [1-9]/);
  expect(out).toMatch(/TOKLEN [1-9]/);
  expect(await runCell(page, asOneLine(JOB_CELL))).toContain('JOB SUCCEEDED');
  await shot(page, '07-job-succeeded');

  // Restart: the session kernel's launch env was updated by the server (update_env); the token still works.
  void execute(page, 'notebook:restart-kernel').catch(() => undefined);
  await page.locator('.jp-Dialog .jp-mod-accept').click();
  await page
    .waitForSelector('.jp-Notebook-ExecutionIndicator[data-status="idle"]', { state: 'attached' })
    .catch(() => undefined);
  await cellUntil(page, ENV_CELL, /MODE token TOKLEN [1-9]/);
  expect(await runCell(page, asOneLine(JOB_CELL))).toContain('JOB SUCCEEDED');
  await shot(page, '08-after-restart');

  // A kernel started after connecting gets the env at launch (the server's own os.environ never holds it).
  await page.notebook.createNew('after.ipynb');
  expect(await runCell(page, ENV_CELL)).toMatch(/ADDR http:\/\/127\.0\.0\.1:\d+ MODE token TOKLEN [1-9]/);
  expect(await page.notebook.save(), 'after.ipynb saved with its outputs (for the leak search)').toBe(true);

  // So does a kernel of a second kernelspec (run.mjs writes `python-other`).
  await page.notebook.createNew('other.ipynb', { kernel: 'python-other' });
  await expect(page.locator('.jp-NotebookPanel:visible .jp-KernelName')).toContainText('second kernelspec');
  expect(await runCell(page, ENV_CELL)).toMatch(/ADDR http:\/\/127\.0\.0\.1:\d+ MODE token TOKLEN [1-9]/);
  expect(await page.notebook.save(), 'other.ipynb saved with its outputs (for the leak search)').toBe(true);

  // The page learns names and counts only, never a value.
  const state = await (await page.request.get('/ray-connect/env')).json();
  expect(state.keys).toEqual(expect.arrayContaining(['RAY_ADDRESS', 'RAY_AUTH_MODE', 'RAY_AUTH_TOKEN']));
  expect(state.kernels).toBeGreaterThanOrEqual(3);
  expect(Object.keys(state)).not.toContain('env');
  await expect(page.locator(`${ray('raycluster-token')} .rc-kind-detail`, { hasText: 'Env' })).toContainText(
    'kernels',
  );

  // A new terminal gets the env in its own process.
  const term = await terminalEnv(page, 'term-connected.txt');
  expect(term).toContain('RAY_ADDRESS');
  expect(term).toContain('RAY_AUTH_MODE');
  expect(term).toContain('RAY_AUTH_TOKEN');
  expect(term).toMatch(/token-length=[1-9]/);
  await shot(page, '09-terminal');

  // Sign out: the running kernel, new terminals and the server lose it.
  await page.locator('.lm-TabBar-tab', { hasText: 'before.ipynb' }).click();
  await openPanel(page);
  await page.locator(`${CLUSTER} > .rc-row .rc-action-signOut`).click();
  await expect(page.locator(`${CLUSTER} > .rc-row .rc-action-signIn`)).toBeVisible();
  await cellUntil(page, ENV_CELL, /ADDR None MODE None TOKLEN 0/);
  expect(await page.notebook.save(), 'before.ipynb saved with its outputs (for the leak search)').toBe(true);
  const after = await terminalEnv(page, 'term-signed-out.txt');
  expect(after).not.toContain('RAY_AUTH_TOKEN');
  expect(after).toContain('token-length=0');
  const env = await page.request.get('/ray-connect/env');
  expect((await env.json()).active).toBeNull();
  await shot(page, '10-signed-out');
});

test('leak search: neither the pasted token nor the Ray token is in any file the run wrote', async () => {
  const work = process.env.RC_E2E_WORK ?? '';
  expect(work, 'run.mjs passes its work dir').not.toBe('');
  expect(secrets.size, 'the token sign-in test ran first').toBe(1);
  // The Ray token of the token-mode RayCluster, read as the sandbox admin (kept in memory only).
  const detail = sandbox.rayClusterDetails.token;
  const got = await kubectl([
    '-n',
    NS,
    'get',
    'secret',
    detail?.secretName ?? 'raycluster-token',
    '-o',
    'jsonpath={.data.auth_token}',
  ]);
  expect(got.code, 'kubectl get secret').toBe(0);
  const rayToken = Buffer.from(got.stdout.trim(), 'base64').toString('utf8').trim();
  expect(rayToken.length, 'the Ray token').toBeGreaterThanOrEqual(12);
  secrets.add(rayToken);

  // The search finds what is there: a random non-secret canary (a JWT shape), whole and its signature alone.
  const canary = ['a', 'b', 'c'].map(() => randomBytes(24).toString('base64url'));
  const canaryFile = join(work, 'notebooks', 'leak-canary.txt');
  writeFileSync(canaryFile, `x${canary.join('.')} y${canary[2]}`);
  try {
    expect(leakSearch([work], [canary.join('.')]).hits).toEqual([
      `${canaryFile} @1 (secret #1, whole)`,
      `${canaryFile} @${canary[0]!.length + canary[1]!.length + 3} (secret #1, signature)`,
    ]);
  } finally {
    rmSync(canaryFile, { force: true });
  }

  // The work dir holds everything the run wrote: the server root (notebooks, terminal output files), the Jupyter
  // config/data/runtime dirs, lab settings and workspaces, IPYTHONDIR, the server log, the agent's config dir with
  // its tokens/ dir, and the kubeconfig.
  const r = leakSearch([work], secrets);
  console.log(
    `leak search: ${secrets.size} secrets (${r.needles} needles) in ${r.files} files, ${r.bytes} bytes` +
      `${r.skipped.length ? `; skipped (over 8 MB): ${r.skipped.join(', ')}` : ''}`,
  );
  expect(r.hits, `secrets found (file @offset):\n${r.hits.join('\n')}`).toEqual([]);
  expect(r.files, 'files were searched').toBeGreaterThan(10);
  expect(existsSync(join(work, 'jupyterlab.log')), 'the server log was searched').toBe(true);
  const saved = readdirSync(join(work, 'notebooks'), { recursive: true }).map(String);
  for (const nb of ['before.ipynb', 'after.ipynb', 'other.ipynb'])
    expect(
      saved.some((f) => f.endsWith(nb)),
      `${nb} (with its outputs) was searched`,
    ).toBe(true);
});
