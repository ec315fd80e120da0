// The Ray dashboard through the Jupyter server (run by ../run.mjs): "Open dashboard" in the panel opens
// <base_url>ray-connect/dashboard/<clusterId>/<namespace>/<name>/, where the server relays to the forward and adds
// the Ray token. The real Ray 2.59 dashboard of the sandbox's token head must render with no token typed, its job
// list load and a job's log stream, and every request of the browser stay under the Jupyter base URL.
// The Ray token is read as the sandbox admin for the checks and to submit the job from here: in memory only.
import { test } from '@jupyterlab/galata/lib/fixtures.js';
import { expect } from '@playwright/test';
import type { Page, Request } from '@playwright/test';
import { mkdirSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { createToken, kubectl, readSandbox } from '../../sandbox/client.mjs';

const artifacts = join(process.cwd(), 'artifacts');
mkdirSync(artifacts, { recursive: true });
const sandbox = readSandbox();
const NS: string = sandbox.namespace;
const RAY = 'raycluster-token';
const CLUSTER = 'li.rc-kind-cluster[aria-label^="sandbox,"]';
const rayRow = `li.rc-kind-rayCluster[aria-label^="${RAY},"]`;

test.describe.configure({ mode: 'serial' });
test.use({ autoGoto: false, kernels: null, sessions: null, terminals: null });

/** galata's goto waits 15 s for the app to start: on a busy shared machine the first load of a fresh server can
 * take longer. Loading again is quicker (cached assets). */
async function openLab(page: { goto(): Promise<unknown> }) {
  for (let attempt = 1; ; attempt++) {
    try {
      await page.goto();
      return;
    } catch (e) {
      if (attempt >= 3) throw e;
    }
  }
}

async function openPanel(page: Page) {
  if (!(await page.locator('#ray-connect-panel').isVisible()))
    await page.locator('.lm-TabBar-tab[data-id="ray-connect-panel"]').click();
  await expect(page.locator(`#ray-connect-panel ${CLUSTER}`)).toBeVisible();
}

async function signOutIfSignedIn(page: Page) {
  const signOut = page.locator(`${CLUSTER} > .rc-row .rc-action-signOut`);
  if (await signOut.count()) {
    await signOut.click();
    await expect(page.locator(`${CLUSTER} > .rc-row .rc-action-signIn`)).toBeVisible();
  }
}

async function rayToken(): Promise<string> {
  const secret = sandbox.rayClusterDetails?.token?.secretName ?? RAY;
  const got = await kubectl(['-n', NS, 'get', 'secret', secret, '-o', 'jsonpath={.data.auth_token}']);
  expect(got.code, 'kubectl get secret').toBe(0);
  return Buffer.from(got.stdout.trim(), 'base64').toString('utf8').trim();
}

/** POST to the head from here. Not fetch(): Ray answers 405 to what looks like a browser (a `Mozilla` User-Agent,
 * any `Sec-Fetch-*` header, which Node's fetch sends). */
function post(url: string, token: string, body: unknown): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const data = Buffer.from(JSON.stringify(body));
    const req = httpRequest(
      url,
      {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${token}`,
          'Content-Type': 'application/json',
          'Content-Length': data.length,
          'User-Agent': 'ray-connect-e2e',
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

/** A job that prints a line a second for a while, submitted to the head directly (Jobs API, not from a page). */
async function submitJob(headUrl: string, token: string): Promise<string> {
  const entrypoint = `python -c "import time
for i in range(240):
    print('tick', i, flush=True)
    time.sleep(1)"`;
  const r = await post(`${headUrl}/api/jobs/`, token, { entrypoint });
  expect(r.status, `submit job: ${r.text.slice(0, 200)}`).toBe(200);
  return (JSON.parse(r.text) as { submission_id: string }).submission_id;
}

test('Open dashboard: the real Ray dashboard under the Jupyter base URL, token added by the server', async ({
  page,
  baseURL,
}) => {
  const base = new URL(baseURL ?? '').origin + '/';
  const token = await rayToken();
  const head = sandbox.rayHeads?.token?.url ?? 'http://127.0.0.1:18265';
  const jobId = await submitJob(head, token);
  const requests: string[] = [];
  const onRequest = (r: Request) => requests.push(r.url());
  page.context().on('request', onRequest);
  try {
    await openLab(page);
    await openPanel(page);
    await signOutIfSignedIn(page);
    await page.locator(`${CLUSTER} > .rc-row .rc-action-signIn`).click();
    await page.locator('.jp-Dialog select').selectOption({ label: 'Paste a token' });
    await page.locator('.jp-Dialog .jp-mod-accept').click();
    await page
      .locator('.jp-Dialog .rc-token-input')
      .fill(await createToken(NS, 'ray-user', { expirationSeconds: 600 }));
    await page.locator('.jp-Dialog .jp-mod-accept').click();
    await page.locator(`${rayRow} > .rc-row .rc-action-connect`).click();
    await expect(page.locator(rayRow)).toHaveAttribute('data-state', 'connected');

    // The panel's Dashboard row opens a new tab (window.open) at the route, not at the server's 127.0.0.1.
    const opened = page.context().waitForEvent('page');
    await page.locator(`${rayRow} .rc-kind-detail[aria-label^="Dashboard"] > .rc-row`).click();
    const dash = await opened;
    await dash.waitForLoadState();
    const route = `${base}ray-connect/dashboard/${encodeURIComponent('context:sandbox')}/${NS}/${RAY}/`;
    expect(dash.url()).toBe(route);

    // Overview renders from the real head's API, with no "Authentication Token Required" dialog.
    await expect(dash.getByText('Cluster status and autoscaler')).toBeVisible();
    await expect(dash.getByText(/Active:\s*1 node_/)).toBeVisible();
    await expect(dash.getByText('Authentication Token Required')).toHaveCount(0);
    await dash.screenshot({ path: join(artifacts, 'dashboard-overview.png') });

    // The job list loads, with the job submitted above.
    await dash.goto(`${route}#/jobs`);
    await expect(dash.getByText(jobId).first()).toBeVisible();
    await dash.screenshot({ path: join(artifacts, 'dashboard-jobs.png') });

    // The job's log in the dashboard grows while the job runs.
    await dash.goto(`${route}#/jobs/${jobId}`);
    const tick = async () => {
      const m = [...(await dash.locator('body').innerText()).matchAll(/tick (\d+)/g)].map((x) =>
        Number(x[1]),
      );
      return m.length ? Math.max(...m) : -1;
    };
    await expect.poll(tick, { timeout: 90_000 }).toBeGreaterThanOrEqual(0);
    // Its Refresh button reads the log again (api/v0/logs/file through the route): later lines come. (The view
    // renders only the lines in sight, so the growth is read from the responses the page got.)
    const maxTick = (text: string) =>
      Math.max(-1, ...[...text.matchAll(/tick (\d+)/g)].map((x) => Number(x[1])));
    const refreshed = async () => {
      const answer = dash.waitForResponse((r) => r.url().startsWith(`${route}api/v0/logs/file`));
      await dash.getByRole('button', { name: 'Refresh', exact: true }).click();
      const r = await answer;
      expect(r.status()).toBe(200);
      return maxTick(await r.text());
    };
    const first = await refreshed();
    expect(first).toBeGreaterThanOrEqual(0);
    await expect.poll(refreshed, { timeout: 90_000, intervals: [2000] }).toBeGreaterThan(first + 1);
    await dash.screenshot({ path: join(artifacts, 'dashboard-job-log.png') });

    // The Jobs API's log tail (a websocket) streams through the route from the page too.
    const tail = await dash.evaluate(async (id) => {
      const url = new URL(`api/jobs/${id}/logs/tail`, location.href.replace(/#.*$/, ''));
      url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
      return await new Promise<{ messages: number; ticks: number; error?: string }>((resolve) => {
        const ws = new WebSocket(url);
        const got: string[] = [];
        const done = (error?: string) => {
          ws.close();
          const ticks = new Set(got.join('').match(/tick \d+/g) ?? []).size;
          resolve({ messages: got.length, ticks, ...(error && { error }) });
        };
        const timer = setTimeout(() => done('timeout'), 60_000);
        ws.onmessage = (e) => {
          got.push(String(e.data));
          // the whole log so far, then a line a second: three messages prove it streams
          if (got.length >= 3) {
            clearTimeout(timer);
            done();
          }
        };
        ws.onerror = () => done('error');
      });
    }, jobId);
    expect(tail.error).toBeUndefined();
    expect(tail.messages).toBeGreaterThanOrEqual(3);

    // The browser never holds the Ray token: no cookie, not in a URL, not in the page.
    const cookies = await page.context().cookies();
    expect(cookies.map((c) => c.name)).not.toContain('ray-authentication-token');
    expect(cookies.some((c) => c.value.includes(token))).toBe(false);
    expect(requests.some((u) => u.includes(token))).toBe(false);
    expect(await dash.content()).not.toContain(token);

    // Every request of the browser (JupyterLab and the dashboard) stayed under the Jupyter base URL.
    const outside = [...new Set(requests.filter((u) => !/^(data|blob):/.test(u) && !u.startsWith(base)))];
    expect(outside, 'requests outside the Jupyter base URL').toEqual([]);
    expect(requests.filter((u) => u.startsWith(route)).length).toBeGreaterThan(10);
    await dash.close();

    // Disconnected: the route answers with a page naming the cluster and what to do, not a stack trace.
    await page.locator(`${rayRow} > .rc-row .rc-action-disconnect`).click();
    await expect(page.locator(rayRow)).not.toHaveAttribute('data-state', 'connected');
    const gone = await page.request.get(route);
    expect(gone.status()).toBe(503);
    const text = await gone.text();
    expect(text).toContain(RAY);
    expect(text).toContain('Ray panel');
    expect(text).not.toContain('Traceback');
    await signOutIfSignedIn(page);
  } finally {
    page.context().off('request', onRequest);
    await post(`${head}/api/jobs/${jobId}/stop`, token, {}).catch(() => undefined);
  }
});
