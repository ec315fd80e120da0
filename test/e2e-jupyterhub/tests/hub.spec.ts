// Ray Connect behind a real JupyterHub (run by ../run.mjs): alice's and bob's servers as their own unix users, the
// page at /user/<name>/ through configurable-http-proxy. Serial, one page of alice's for the whole file: its network
// log is asserted at the end. Tests of features other branches are building are `test.fixme`, named after the
// feature; switch them on at merge. Nothing prints or writes a token: cells and terminals print names and lengths.
import { expect, test } from '@playwright/test';
import type { Browser, BrowserContext, Page } from '@playwright/test';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { approveDevice, createToken, readSandbox } from '../../sandbox/client.mjs';
import { chromiumArgs } from '../playwright.config.mjs';
import {
  CLUSTER,
  NetworkLog,
  PROBE_PY,
  asOneLine,
  chooseSignIn,
  execute,
  hubApi,
  hubLogin,
  hubUrl,
  info,
  labCall,
  newNotebook,
  openPanel,
  probeAs,
  ray,
  runCell,
  serverOf,
  serverToken,
  signOutIfSignedIn,
  terminalRun,
  TERMINAL_ENV,
  uidOf,
  until,
  type Probe,
} from './hub';
import { checkDashboard, tailJobLog } from './dashboard';
import { driveIdpLogin, startNetnsBrowser } from './netns';

const artifacts = join(process.cwd(), 'artifacts');
mkdirSync(artifacts, { recursive: true });
const sandbox = readSandbox();
const NS: string = sandbox.namespace;
const VIEWPORT = { width: 1400, height: 900 };
const ENV_CELL =
  'import os; print("ADDR", os.environ.get("RAY_ADDRESS"), "MODE", os.environ.get("RAY_AUTH_MODE"), "TOKLEN", len(os.environ.get("RAY_AUTH_TOKEN") or ""))';
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

test.describe.configure({ mode: 'serial' });

let context: BrowserContext;
let page: Page;
/** Every request and websocket of alice's page, from the first navigation on. */
const net = new NetworkLog();
/** The hub answered for alice's URLs while her server was stopped (the liveness test): redirects to /hub/ allowed. */
let stoppedWindow = false;

async function shot(p: Page, name: string) {
  await p.screenshot({ path: join(artifacts, `${name}.png`) });
}

async function cellUntil(code: string, pattern: RegExp): Promise<string> {
  let out = '';
  return until(`cell output matching ${pattern}`, 60_000, async () => {
    out = await runCell(page, code);
    return pattern.test(out) ? out : undefined;
  }).catch((e) => {
    throw new Error(`${(e as Error).message}; last output: ${out}`);
  });
}

async function connectRay(name: string) {
  await openPanel(page);
  const node = page.locator(ray(name));
  if ((await node.getAttribute('data-state')) !== 'connected')
    await page.locator(`${ray(name)} > .rc-row .rc-action-connect`).click();
  await expect(node).toHaveAttribute('data-state', 'connected');
}

test.beforeAll(async ({ browser }) => {
  context = await browser.newContext({ baseURL: hubUrl, viewport: VIEWPORT });
  page = await context.newPage();
  net.attach(page, '/user/alice/lab');
});

test.afterAll(async () => {
  await context?.close();
});

test('alice logs in to the hub; /user/alice/lab loads with the Ray panel, signed out', async () => {
  await hubLogin(page, 'alice');
  expect(net.phase, 'the network log saw the lab load').toBe('lab');
  await openPanel(page);
  await expect(page.locator(`${CLUSTER} > .rc-row`)).toContainText('signed out');
  await expect(page.locator('.rc-status')).toContainText('Ray:');
  await shot(page, '01-alice-lab');
});

test('the servers run as distinct unix users (LocalProcessSpawner), and so do their agents', async () => {
  test.skip(info.spawner !== 'localprocess', `SimpleLocalProcessSpawner fallback: ${info.fallback}`);
  const uids: number[] = [];
  for (const name of ['alice', 'bob']) {
    const server = await serverOf(name);
    expect(server?.ready, `${name}'s server is ready`).toBe(true);
    const pid = server?.state?.pid;
    expect(pid, `${name}'s server pid (admin:server_state)`).toBeGreaterThan(0);
    expect(uidOf(pid!), `${name}'s server uid`).toBe(info.users[name]!.uid);
    // The agent: a child of the server running the bundled ray-connect.mjs.
    const { readdirSync, readFileSync } = await import('node:fs');
    const agents = readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .filter((d) => {
        try {
          const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
          const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
          return ppid === pid && readFileSync(`/proc/${d}/cmdline`, 'utf8').includes('ray-connect.mjs');
        } catch {
          return false;
        }
      });
    expect(agents.length, `${name}'s agent process`).toBe(1);
    expect(uidOf(Number(agents[0])), `${name}'s agent uid`).toBe(info.users[name]!.uid);
    uids.push(info.users[name]!.uid!);
  }
  expect(uids[0]).not.toBe(uids[1]);
});

test('sign in with a pasted ServiceAccount token lists the sandbox Ray clusters', async () => {
  await openPanel(page);
  await signOutIfSignedIn(page);
  const token: string = await createToken(NS, 'ray-user', { expirationSeconds: 600 });
  await chooseSignIn(page, 'Paste a token');
  await page.locator('.jp-Dialog .rc-token-input').fill(token);
  await page.locator('.jp-Dialog .jp-mod-accept').click();
  await expect(page.locator(`${CLUSTER} > .rc-row`)).toContainText(`system:serviceaccount:${NS}:ray-user`);
  for (const name of ['raycluster-token', 'raycluster-rbac', 'raycluster-noauth'])
    await expect(page.locator(ray(name))).toBeVisible();
  await expect(page.locator(`${ray('raycluster-token')} > .rc-row`)).toContainText('token auth');
  await shot(page, '02-token-sign-in');
  await signOutIfSignedIn(page);
});

test('sign in with device code, approved as alice at the sandbox OIDC provider', async () => {
  await openPanel(page);
  await signOutIfSignedIn(page);
  await chooseSignIn(page, 'Sign in with device code (OIDC)');
  const code = page.locator('.jp-Dialog .rc-device-code');
  await expect(code).toBeVisible();
  await shot(page, '03-device-code');
  await approveDevice({ userCode: (await code.innerText()).trim(), user: 'alice' });
  await expect(code).toHaveCount(0);
  await expect(page.locator(`${CLUSTER} > .rc-row`)).toContainText('alice');
  await expect(page.locator(ray('raycluster-token'))).toBeVisible();
});

test("connect: a new kernel and a new terminal of alice's server get the Ray env; a job succeeds", async () => {
  await connectRay('raycluster-token');
  await shot(page, '04-connected');
  await newNotebook(page);
  const out = await cellUntil(ENV_CELL, /ADDR http:\/\/127\.0\.0\.1:\d+ MODE token TOKLEN [1-9]/);
  expect(out).toMatch(/TOKLEN [1-9]/);
  expect(await runCell(page, asOneLine(JOB_CELL))).toContain('JOB SUCCEEDED');
  await shot(page, '05-job-succeeded');
  const term = await terminalRun(page, 'alice', TERMINAL_ENV('term-env.txt'), 'term-env.txt');
  expect(term).toContain('RAY_ADDRESS');
  expect(term).toContain('RAY_AUTH_MODE');
  expect(term).toMatch(/token-length=[1-9]/);
  if (info.spawner === 'localprocess') expect(term).toContain(`uid=${info.users.alice!.uid}`);
  await shot(page, '06-terminal');
});

const TICK_JOB = [
  'from ray.job_submission import JobSubmissionClient',
  'ep = "python -u -c \\"import time\\nfor i in range(120): print(\'rc-e2e tick\', i, flush=True); time.sleep(1)\\""',
  'print("SUBMITTED", JobSubmissionClient().submit_job(entrypoint=ep))',
].join('\n');

test('dashboard through the server: Open dashboard opens /user/alice/ray-connect/dashboard/..., the real Ray dashboard renders, its Jobs page lists the job, the job log streams (HTTP, and the Jobs websocket); no token typed', async () => {
  await connectRay('raycluster-token');
  const clusters = await labCall<{ id: string; name: string }[]>(page, 'alice', 'listClusters');
  const clusterId = clusters.find((c) => c.name === 'sandbox')?.id ?? '';
  expect(clusterId, 'the sandbox cluster id').not.toBe('');
  const prefix = `/user/alice/ray-connect/dashboard/${encodeURIComponent(clusterId)}/${NS}/raycluster-token/`;
  // A job that prints a line a second, submitted from alice's kernel (her connection's env).
  const submitted = await runCell(page, asOneLine(TICK_JOB));
  const sid = submitted.match(/SUBMITTED (\S+)/)?.[1] ?? '';
  expect(sid, `job submitted: ${submitted}`).not.toBe('');

  const dashRequests: string[] = [];
  const onRequest = (r: import('@playwright/test').Request) => {
    try {
      if (r.frame().page() !== page) dashRequests.push(r.url());
    } catch {
      // a request without a frame (service worker): not the page's
    }
  };
  context.on('request', onRequest);
  try {
    await openPanel(page);
    const [dash] = await Promise.all([
      context.waitForEvent('page'),
      page.locator(`${ray('raycluster-token')} > .rc-row .rc-action-openDashboard`).click(),
    ]);
    await dash.waitForLoadState();
    expect(new URL(dash.url()).pathname.startsWith(prefix), `dashboard URL ${dash.url()}`).toBe(true);
    await checkDashboard(dash, prefix, sid, (name) => shot(dash, name));
    // The Jobs websocket through the server (a hub token of alice's: Ray refuses the websocket to browsers).
    const tail = await tailJobLog(`${hubUrl}${prefix}`, sid, await serverToken('alice'));
    expect(tail.error, 'api/jobs/<id>/logs/tail through the server').toBeUndefined();
    expect(tail.ticks.length, `websocket messages: ${JSON.stringify(tail.ticks)}`).toBeGreaterThanOrEqual(3);
    expect(Math.max(...tail.ticks.at(-1)!)).toBeGreaterThan(Math.max(...tail.ticks[0]!));
    await dash.close();
  } finally {
    context.off('request', onRequest);
  }
  const outside = dashRequests.filter(
    (u) => !u.startsWith('data:') && !u.startsWith('blob:') && !new URL(u).pathname.startsWith(prefix),
  );
  expect(outside, 'dashboard tab requests outside its prefix').toEqual([]);
  expect(dashRequests.length).toBeGreaterThan(5);
});

test("one sign-in in the pod: `ray-connect whoami` in a JupyterLab terminal uses the panel's sign-in", async () => {
  await openPanel(page);
  await expect(page.locator(`${CLUSTER} > .rc-row`)).toContainText('alice');
  const out = await terminalRun(
    page,
    'alice',
    'ray-connect whoami > who.txt.tmp 2>&1; echo "exit=$?" >> who.txt.tmp; mv who.txt.tmp who.txt',
    'who.txt',
  );
  expect(out, out).toContain('exit=0');
  expect(out).toMatch(/alice.* on sandbox/);
});

/** Alice's forwards of `name`: the HTTP one from a new kernel's env, the Ray Client one from listConnections. */
async function forwardsOf(name: string): Promise<{ http: string; clientHost: string; clientPort: string }> {
  await page.locator('.lm-TabBar-tab', { hasText: '.ipynb' }).first().click();
  const env = await cellUntil(ENV_CELL, /ADDR http:\/\/127\.0\.0\.1:\d+/);
  const http = env.match(/ADDR (http:\/\/127\.0\.0\.1:\d+)/)![1]!;
  const conns = await labCall<{ name: string; clientAddress?: string }[]>(page, 'alice', 'listConnections');
  const client = conns.find((c) => c.name === name)?.clientAddress ?? '';
  const m = client.match(/^ray:\/\/(127\.0\.0\.1):(\d+)$/);
  expect(m, `Ray Client address of ${name}: ${client}`).not.toBeNull();
  return { http, clientHost: m![1]!, clientPort: m![2]! };
}

/** PROBE_PY in alice's kernel: a process of hers, with her connection's env. */
async function probeInKernel(args: string[]): Promise<Probe> {
  const code = `import subprocess, sys; print(subprocess.run([sys.executable, "-c", ${JSON.stringify(PROBE_PY)}, ${args.map((a) => JSON.stringify(a)).join(', ')}], capture_output=True, text=True).stdout)`;
  const out = await runCell(page, code);
  return JSON.parse(out.trim().split('\n').pop() ?? '{}') as Probe;
}

test("forwards serve only their user: bob's process is refused by alice's forwards (HTTP and Ray Client), token-auth and no-auth clusters", async () => {
  test.skip(info.spawner !== 'localprocess', `SimpleLocalProcessSpawner fallback: ${info.fallback}`);
  for (const [name, other] of [
    ['raycluster-token', 'raycluster-noauth'],
    ['raycluster-noauth', 'raycluster-token'],
  ] as const) {
    // One connection at a time, so the kernel's env is this one's.
    await openPanel(page);
    if ((await page.locator(ray(other)).getAttribute('data-state')) === 'connected')
      await page.locator(`${ray(other)} > .rc-row .rc-action-disconnect`).click();
    await connectRay(name);
    const f = await forwardsOf(name);
    const aliceHttp = await probeInKernel(['http', f.http]);
    const aliceGrpc = await probeInKernel(['grpc', f.clientHost, f.clientPort]);
    expect(aliceHttp.http, `${name}: alice's own process through her dashboard forward`).toBe(200);
    expect(
      aliceGrpc.firstFrameType,
      `${name}: alice's own process gets the Ray Client server's SETTINGS`,
    ).toBe(4);
    const bobHttp = await probeAs('bob', ['http', f.http]);
    const bobGrpc = await probeAs('bob', ['grpc', f.clientHost, f.clientPort]);
    expect(
      bobHttp.http === 200,
      `${name}: bob's process through alice's dashboard forward: ${JSON.stringify(bobHttp)}`,
    ).toBe(false);
    expect(
      bobGrpc.bytes ?? 0,
      `${name}: bob's process gets nothing from alice's Ray Client forward: ${JSON.stringify(bobGrpc)}`,
    ).toBe(0);
  }
});

test("two users: bob's own server answers him; alice's agent calls, env and events through the hub refuse him", async ({
  browser,
}: {
  browser: Browser;
}) => {
  const bobContext = await browser.newContext({ baseURL: hubUrl, viewport: VIEWPORT });
  try {
    const bob = await bobContext.newPage();
    await hubLogin(bob, 'bob');
    await openPanel(bob);
    await expect(bob.locator(`${CLUSTER} > .rc-row`)).toContainText('signed out'); // his agent, not alice's sign-in
    expect((await bob.request.get('/user/bob/ray-connect/env')).status(), "bob's own env").toBe(200);

    const refused = (status: number, url: string) =>
      [403, 404].includes(status) || new URL(url).pathname.startsWith('/user/bob/');
    // alice's dashboard route (her connection of raycluster-token from the dashboard test is still open).
    const aliceClusters = await labCall<{ id: string; name: string }[]>(page, 'alice', 'listClusters');
    const aliceClusterId = aliceClusters.find((c) => c.name === 'sandbox')?.id ?? '';
    expect(aliceClusterId, "alice's sandbox cluster id").not.toBe('');
    const dashboard = `dashboard/${encodeURIComponent(aliceClusterId)}/${NS}/raycluster-token/api/jobs/`;
    // With bob's browser session (his hub cookie).
    for (const [method, path] of [
      ['POST', 'call/listClusters'],
      ['GET', 'env'],
      ['GET', 'events'],
      ['GET', dashboard],
    ] as const) {
      const r = await bob.request.fetch(`/user/alice/ray-connect/${path}`, {
        method,
        ...(method === 'POST' ? { data: { args: [] } } : {}),
        maxRedirects: 20,
        timeout: 30_000,
      });
      expect(
        refused(r.status(), r.url()),
        `${method} /user/alice/ray-connect/${path} as bob: ${r.status()} at ${r.url()}`,
      ).toBe(true);
      expect(await r.text()).not.toContain(NS);
    }
    const lab = await bob.goto('/user/alice/lab');
    expect(
      refused(lab?.status() ?? 0, bob.url()),
      `/user/alice/lab as bob: ${lab?.status()} at ${bob.url()}`,
    ).toBe(true);
    await shot(bob, '10-bob-at-alice');

    // With hub API tokens (no XSRF involved): alice's answers (the routes work), bob's is refused.
    const aliceToken = await serverToken('alice');
    const bobToken = await serverToken('bob');
    const listAs = (token: string) =>
      fetch(`${hubUrl}/user/alice/ray-connect/call/listClusters`, {
        method: 'POST',
        headers: { Authorization: `token ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ args: [] }),
        redirect: 'manual',
      });
    const asAlice = await listAs(aliceToken);
    expect(asAlice.status, "alice's token on her own server").toBe(200);
    expect(await asAlice.text()).toContain('sandbox');
    const asBob = await listAs(bobToken);
    expect([403, 404], `bob's token on alice's server: ${asBob.status}`).toContain(asBob.status);
    expect(await asBob.text()).not.toContain(NS);
    for (const path of ['env', 'events']) {
      const ctrl = new AbortController();
      const r = await fetch(`${hubUrl}/user/alice/ray-connect/${path}`, {
        headers: { Authorization: `token ${bobToken}` },
        redirect: 'manual',
        signal: ctrl.signal,
      });
      expect([403, 404], `GET ${path} with bob's token: ${r.status}`).toContain(r.status);
      ctrl.abort();
    }
  } finally {
    await bobContext.close();
  }
});

/** A name for the hub that is not loopback (mapped to 127.0.0.1 in the remote browser): the page counts as remote. */
const REMOTE_HOST = 'hub.rc-e2e.test';

/**
 * Browser sign-in as `user` from a Chromium in a network namespace of its own that opens the hub as
 * http://hub.rc-e2e.test:<port>/. Returns how it ended: the device code offered (then approved) or the provider's
 * redirect to the server's callback. Fails on anything else within 60 s (a silent wait).
 */
async function remoteBrowserSignIn(user: 'alice' | 'bob'): Promise<'device' | 'callback'> {
  const remote = await startNetnsBrowser(
    info.runDir,
    [info.ports.proxy, sandbox.ports.oidc],
    [...chromiumArgs, `--host-resolver-rules=MAP ${REMOTE_HOST} 127.0.0.1`],
  );
  const remoteHub = `http://${REMOTE_HOST}:${info.ports.proxy}`;
  try {
    const ctx = await remote.browser.newContext({
      baseURL: remoteHub,
      viewport: VIEWPORT,
      ignoreHTTPSErrors: true,
    });
    const p = await ctx.newPage();
    await hubLogin(p, user);
    // This browser reaches the hub and the identity provider, and nothing else of the server's loopback.
    const reach = await p.evaluate(async (u) => {
      try {
        await fetch(u, { mode: 'no-cors' });
        return 'reached';
      } catch {
        return 'unreachable';
      }
    }, sandbox.apiServer);
    expect(reach, `${sandbox.apiServer} from the remote browser`).toBe('unreachable');
    await openPanel(p);
    await signOutIfSignedIn(p);
    let popup: Page | undefined;
    ctx.on('page', (w) => (popup ??= w));
    await chooseSignIn(p, 'Sign in with browser (OIDC or OpenShift)');
    const device = p.locator('.jp-Dialog .rc-device-code');
    const offer = p.locator('.jp-Dialog button', { hasText: /device code/i });
    let landed: string | undefined;
    const outcome = await until(
      'browser sign-in: device code offered or the provider sent back',
      60_000,
      async () => {
        if (await device.isVisible()) return 'device' as const;
        if (await offer.count()) {
          await offer.first().click(); // device code offered with its reason: take it
          return undefined;
        }
        if (popup && !landed)
          landed = await driveIdpLogin(popup, sandbox.oidc.issuer, user, sandbox.users[user].password);
        if (landed) {
          const at = new URL(landed);
          expect(
            `${at.origin}${at.pathname}`,
            "the provider sends the browser to the server's callback, not to the server's loopback (unreachable here)",
          ).toBe(`${remoteHub}/user/${user}/ray-connect/oauth/callback`);
          return 'callback' as const;
        }
        return undefined;
      },
    );
    if (outcome === 'device') {
      await shot(p, `11-remote-${user}-device-offered`);
      await approveDevice({ userCode: (await device.innerText()).trim(), user });
    } else await shot(popup!, `11-remote-${user}-callback`);
    await expect(p.locator(`${CLUSTER} > .rc-row`)).toContainText(user, { timeout: 30_000 });
    await shot(p, `12-remote-${user}-signed-in`);
    await ctx.close();
    return outcome;
  } finally {
    await remote.close();
  }
}

test("sign-in that fits a remote browser: from a Chromium that cannot reach the server's loopback, alice's server (browser_redirect auto) offers device code, never a silent wait", async () => {
  expect(await remoteBrowserSignIn('alice')).toBe('device');
});

/** Whether the running sandbox provider accepts a Jupyter server's callback as redirect URI (main's oidc-server.mjs). */
async function providerListsJupyterCallback(callback: string): Promise<boolean> {
  const { fetchRaw } = await import('../../sandbox/lib/http.mjs');
  const q = new URLSearchParams({
    client_id: sandbox.oidc.clientId,
    redirect_uri: callback,
    response_type: 'code',
    scope: 'openid',
    code_challenge: 'x'.repeat(43),
    code_challenge_method: 'S256',
  });
  const r = (await fetchRaw(`${sandbox.oidc.issuer}/auth?${q}`, { ca: readFileSync(sandbox.caFile) })) as {
    status: number;
    body: string;
  };
  return [302, 303].includes(r.status) || !/redirect_uri/i.test(r.body);
}

test("sign-in that fits a remote browser: bob's server (browser_redirect server) completes the browser sign-in through /user/bob/ray-connect/oauth/callback", async () => {
  const callback = `http://${REMOTE_HOST}:${info.ports.proxy}/user/bob/ray-connect/oauth/callback`;
  test.skip(
    !(await providerListsJupyterCallback(callback)),
    'the running sandbox OIDC provider predates the Jupyter callback in test/sandbox/lib/oidc-server.mjs: restart the sandbox',
  );
  expect(await remoteBrowserSignIn('bob')).toBe('callback');
});

test("a page that knows when its server is gone: the hub stops alice's server with the tab open, the panel shows the loss within 30 s, then recovers after a respawn without a reload", async () => {
  await openPanel(page);
  await page.evaluate(() => ((window as unknown as { __rcNoReload: boolean }).__rcNoReload = true));
  stoppedWindow = true;
  net.phase = 'server-stopped';
  const stop = await hubApi('/users/alice/server', { method: 'DELETE' });
  expect([202, 204], `DELETE /hub/api/users/alice/server: ${stop.status}`).toContain(stop.status);
  await expect(page.locator('#ray-connect-panel .rc-notice')).toContainText(
    /not reachable|does not answer|unreachable|lost/i,
    { timeout: 30_000 },
  );
  await expect(page.locator('#ray-connect-panel .rc-action-openDashboard')).toHaveCount(0);
  await shot(page, '13-server-gone');
  await until("alice's server stopped", 90_000, async () => !(await serverOf('alice')));
  const start = await hubApi('/users/alice/server', { method: 'POST' });
  expect([201, 202], `POST /hub/api/users/alice/server: ${start.status}`).toContain(start.status);
  await until("alice's server ready again", 240_000, async () => (await serverOf('alice'))?.ready);
  net.phase = 'respawned';
  await expect(page.locator('#ray-connect-panel .rc-notice-lost')).toHaveCount(0, { timeout: 60_000 });
  await expect(page.locator(`#ray-connect-panel ${CLUSTER}`)).toBeVisible();
  await expect(page.locator('#ray-connect-panel .rc-error')).toHaveCount(0);
  expect(
    await page.evaluate(() => (window as unknown as { __rcNoReload?: boolean }).__rcNoReload),
    'the page was not reloaded',
  ).toBe(true);
  // The panel works again: the new agent answers a refresh.
  await execute(page, 'rayConnect.refresh');
  await expect(page.locator(`${CLUSTER} > .rc-row`)).toBeVisible();
  await shot(page, '14-server-back');
});

test("network log: every request and websocket of alice's page stayed under /user/alice/ (hub pages only while logging in)", async () => {
  const origin = new URL(hubUrl).origin;
  const under = (u: URL, prefix: string) => u.origin === origin && u.pathname.startsWith(prefix);
  // Allowed, exactly: while logging in, the hub's pages (/hub/login, its static files, the OAuth authorize
  // step, /hub/user/alice/ redirects) and alice's own URLs (the OAuth callback); afterwards alice's URLs only,
  // plus, while her server was stopped or restarting, the hub's answers for them (a redirect from /user/alice/).
  // data: and blob: URLs are no network requests.
  const bad = net.requests.filter((r) => {
    if (r.url.startsWith('data:') || r.url.startsWith('blob:')) return false;
    const u = new URL(r.url);
    if (under(u, '/user/alice/')) return false;
    if (r.phase === 'login') return !under(u, '/hub/');
    const fromAlice = r.redirectedFrom !== undefined && under(new URL(r.redirectedFrom), '/user/alice/');
    return !(stoppedWindow && r.phase !== 'lab' && fromAlice && under(u, '/hub/'));
  });
  const wsOrigin = origin.replace(/^http/, 'ws');
  const badWs = net.websockets.filter((w) => !w.url.startsWith(`${wsOrigin}/user/alice/`));
  // The log for the artifacts: paths only (a query may hold an OAuth code).
  const strip = (u: string) => (u.startsWith('data:') ? 'data:...' : u.split('?')[0]);
  writeFileSync(
    join(artifacts, 'network-log.json'),
    JSON.stringify(
      {
        requests: net.requests.map((r) => ({
          ...r,
          url: strip(r.url),
          redirectedFrom: r.redirectedFrom && strip(r.redirectedFrom),
        })),
        websockets: net.websockets.map((w) => ({ ...w, url: strip(w.url) })),
      },
      null,
      1,
    ),
  );
  expect(bad.map((r) => `${r.phase} ${r.method} ${strip(r.url)}`)).toEqual([]);
  expect(badWs.map((w) => strip(w.url))).toEqual([]);
  // The log saw the page at work: agent calls, the event stream, a kernel's and a terminal's websockets.
  const lab = net.requests.filter((r) => r.phase === 'lab').map((r) => new URL(r.url).pathname);
  expect(lab.some((p) => p.startsWith('/user/alice/ray-connect/call/'))).toBe(true);
  expect(lab).toContain('/user/alice/ray-connect/events');
  expect(net.websockets.some((w) => w.url.includes('/user/alice/api/kernels/'))).toBe(true);
  expect(net.websockets.some((w) => w.url.includes('/user/alice/terminals/websocket/'))).toBe(true);
  expect(net.requests.some((r) => r.phase === 'login' && new URL(r.url).pathname === '/hub/login')).toBe(
    true,
  );
});
