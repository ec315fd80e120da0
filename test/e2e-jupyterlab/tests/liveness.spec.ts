// Issue 14 item 5 in a real JupyterLab and Chromium: the page knows when its Jupyter server is gone, whatever took
// it away, and comes back without a reload. (1) The server process is SIGKILLed with the tab open and a connection
// up: the panel and the status bar say so within 30 s and offer no action; a new server on the same port: the panel
// reloads its state and names the connection the old server had. (2) A proxy in front keeps the page's connections
// open and silent, as configurable-http-proxy does for a culled server: missed heartbeats alone say "lost" within
// 30 s; the proxy lets traffic through again: the same server answers, the notice goes, nothing else is said.
// The server is this file's own (ownServer.ts); the hub variant is the e2e-jupyterhub tier's.
import { expect, test, type Page } from '@playwright/test';
import { mkdirSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { CLUSTER, OwnServer, freePort, ray, signInWithToken, watchOurErrors } from './ownServer';

const artifacts = join(process.cwd(), 'artifacts');
mkdirSync(artifacts, { recursive: true });
const LOST = '#ray-connect-panel .rc-notice-lost';
const RESTARTED = '#ray-connect-panel .rc-notice-restarted';
/** Buttons that act on the cluster, a Ray cluster or a connection (Refresh in the header = retry now stays). */
const ACTIONS = '#ray-connect-panel .rc-tree .rc-action';
let server: OwnServer;

test.describe.configure({ mode: 'serial' });

test.beforeAll(async () => {
  server = new OwnServer('lab', await freePort());
  await server.launch();
});

test.afterAll(async () => {
  await server?.dispose();
});

async function openPanel(page: Page) {
  await page.waitForFunction(() => 'jupyterapp' in window);
  await page.evaluate(async () => {
    await (window as unknown as { jupyterapp: { restored: Promise<void> } }).jupyterapp.restored;
  });
  if (!(await page.locator('#ray-connect-panel').isVisible()))
    await page.locator('.lm-TabBar-tab[data-id="ray-connect-panel"]').click();
  await expect(page.locator(`#ray-connect-panel ${CLUSTER}`)).toBeVisible();
}

/** JupyterLab's own "Server Connection Error" dialog, if it showed one while the server was gone, is not ours. */
async function closeJupyterDialogs(page: Page) {
  for (const b of await page.locator('.jp-Dialog .jp-mod-reject, .jp-Dialog .jp-mod-accept').all())
    await b.click().catch(() => undefined);
}

/** Set once per page load: still there later means the page was never reloaded. */
async function markPage(page: Page) {
  await page.evaluate(() => ((window as unknown as { rcMark: number }).rcMark = 42));
}
async function pageMark(page: Page): Promise<unknown> {
  return page.evaluate(() => (window as unknown as { rcMark?: number }).rcMark);
}

/** The loss as the user sees it: the notice, the status bar, no action in the tree. Returns seconds it took. */
async function expectLost(page: Page, since: number): Promise<number> {
  await expect(page.locator(LOST)).toContainText('Jupyter server not reachable', { timeout: 30_000 });
  const seconds = (Date.now() - since) / 1000;
  await expect(page.locator(LOST)).toContainText('reconnecting');
  await expect(page.locator('.rc-status')).toContainText('Jupyter server not reachable');
  await expect(page.locator('.rc-status')).toHaveAttribute('data-severity', 'error');
  await expect(page.locator(ACTIONS)).toHaveCount(0);
  await expect(page.locator('#ray-connect-panel')).toHaveClass(/rc-offline/);
  await expect(page.locator('#ray-connect-panel .rc-error')).toHaveCount(0);
  return seconds;
}

/** A TCP proxy that can go silent: open connections stay open with nothing flowing, new ones are held unanswered. */
class SilentableProxy {
  private readonly server: Server;
  private silent = false;
  private readonly pairs = new Set<{ client: Socket; upstream: Socket }>();
  private readonly held = new Set<Socket>();
  port = 0;

  constructor(private readonly target: number) {
    this.server = createServer((client) => {
      client.on('error', () => undefined);
      if (this.silent) {
        this.held.add(client);
        client.resume(); // read and drop: never an answer
        client.on('close', () => this.held.delete(client));
        return;
      }
      const upstream = connect(this.target, '127.0.0.1');
      upstream.on('error', () => client.destroy());
      const pair = { client, upstream };
      this.pairs.add(pair);
      client.pipe(upstream);
      upstream.pipe(client);
      const drop = () => {
        this.pairs.delete(pair);
        client.destroy();
        upstream.destroy();
      };
      client.on('close', drop);
      upstream.on('close', () => {
        if (!this.held.has(client)) drop();
      });
    });
  }

  listen(): Promise<void> {
    return new Promise((res) =>
      this.server.listen(0, '127.0.0.1', () => {
        const a = this.server.address();
        this.port = typeof a === 'object' && a ? a.port : 0;
        res();
      }),
    );
  }

  /** The server side of every connection is cut; the page's side stays open and silent. */
  goSilent(): void {
    this.silent = true;
    for (const { client, upstream } of this.pairs) {
      this.held.add(client);
      upstream.unpipe(client);
      client.unpipe(upstream);
      client.resume();
      upstream.destroy();
    }
    this.pairs.clear();
  }

  /** Traffic flows again; what was held is closed. */
  speak(): void {
    this.silent = false;
    for (const c of this.held) c.destroy();
    this.held.clear();
  }

  close(): Promise<void> {
    this.speak();
    for (const { client, upstream } of this.pairs) {
      client.destroy();
      upstream.destroy();
    }
    return new Promise((res) => this.server.close(() => res()));
  }
}

test('the Jupyter server killed with the tab open: "lost" within 30 s, no dead actions; a new server: state reloaded without a reload, the lost connection named', async ({
  page,
}) => {
  const errors = watchOurErrors(page);
  await page.goto(`${server.baseUrl}/lab`);
  await openPanel(page);
  await signInWithToken(page);
  await page.locator(`${ray('raycluster-noauth')} > .rc-row .rc-action-connect`).click();
  await expect(page.locator(ray('raycluster-noauth'))).toHaveAttribute('data-state', 'connected');
  await expect(page.locator('.rc-status')).toContainText('raycluster-noauth');
  await markPage(page);
  const agents = server.agentPids();
  expect(agents.length, 'the agent of this server').toBe(1);

  const killedAt = Date.now();
  await server.stop('SIGKILL');
  const seconds = await expectLost(page, killedAt);
  console.log(`liveness: server SIGKILLed, the panel said "lost" after ${seconds.toFixed(1)} s`);
  // the last state stays on show (greyed), the connection among it, but with nothing to click
  await expect(page.locator(ray('raycluster-noauth'))).toBeVisible();
  await page.screenshot({ path: join(artifacts, 'liveness-01-killed.png') });
  await expect.poll(() => server.agentPids(), { message: 'the agent exits with its server' }).toEqual([]);

  await server.launch();
  await expect(page.locator(LOST)).toHaveCount(0, { timeout: 60_000 });
  const notice = page.locator(RESTARTED);
  await expect(notice).toContainText('The Jupyter server was unreachable or restarted');
  await expect(notice).toContainText('The connections of the old server are closed: raycluster-noauth');
  await expect(page.locator('#ray-connect-panel')).not.toHaveClass(/rc-offline/);
  await expect(page.locator('.rc-status')).not.toContainText('not reachable');
  await closeJupyterDialogs(page);
  // the new agent's state: the sign-in was in memory only (say so) or kept (then connect works again)
  if (await page.locator(`${CLUSTER} > .rc-row .rc-action-signIn`).count()) {
    await expect(notice).toContainText('Sign in again to sandbox');
    await signInWithToken(page);
  }
  await expect(page.locator(`${ray('raycluster-noauth')} > .rc-row .rc-action-connect`)).toBeVisible();
  expect(await pageMark(page), 'the page was not reloaded').toBe(42);
  await page.screenshot({ path: join(artifacts, 'liveness-02-back.png') });
  await page.locator('#ray-connect-panel .rc-notice-dismiss').click();
  await expect(notice).toHaveCount(0);
  expect(errors).toEqual([]);
});

test('a proxy keeps the stream open and silent: missed heartbeats say "lost" within 30 s; the same server back: the notice goes, nothing was lost', async ({
  page,
}) => {
  const errors = watchOurErrors(page);
  const proxy = new SilentableProxy(server.port);
  await proxy.listen();
  try {
    await page.goto(`http://127.0.0.1:${proxy.port}/lab`);
    await openPanel(page);
    if (await page.locator(`${CLUSTER} > .rc-row .rc-action-signIn`).count()) await signInWithToken(page);
    await expect(page.locator(`${ray('raycluster-noauth')} > .rc-row .rc-action-connect`)).toBeVisible();
    await markPage(page);

    const silentAt = Date.now();
    proxy.goSilent();
    const seconds = await expectLost(page, silentAt);
    console.log(
      `liveness: stream silent behind a proxy, the panel said "lost" after ${seconds.toFixed(1)} s`,
    );
    await page.screenshot({ path: join(artifacts, 'liveness-03-silent.png') });

    proxy.speak();
    await expect(page.locator(LOST)).toHaveCount(0, { timeout: 60_000 });
    await closeJupyterDialogs(page);
    await expect(page.locator(`${ray('raycluster-noauth')} > .rc-row .rc-action-connect`)).toBeVisible();
    await expect(page.locator('.rc-status')).not.toContainText('not reachable');
    // the same server (same id in its heartbeats) with its state intact: nothing to report
    await expect(page.locator(RESTARTED)).toHaveCount(0);
    expect(await pageMark(page), 'the page was not reloaded').toBe(42);
    expect(errors).toEqual([]);
  } finally {
    await proxy.close();
  }
});
