// Helpers of the JupyterHub tier: the hub (login, admin REST API), JupyterLab through /user/<name>/ (commands,
// cells, terminals), processes as another unix user, the network log. Nothing here writes or prints a token.
import { expect } from '@playwright/test';
import type { Page, Request, WebSocket } from '@playwright/test';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export interface HubInfo {
  runDir: string;
  venv: string;
  spawner: 'localprocess' | 'simple';
  fallback?: string;
  users: Record<string, { dir: string; uid?: number; gid?: number }>;
  ports: { proxy: number; hub: number; proxyApi: number };
  hubLog: string;
}

export const info: HubInfo = JSON.parse(process.env.RC_HUB_INFO ?? '{}');
export const hubUrl = process.env.HUB_URL ?? '';
const password = process.env.RC_HUB_PASSWORD ?? '';
const adminToken = process.env.RC_HUB_ADMIN_TOKEN ?? '';

export const CLUSTER = 'li.rc-kind-cluster[aria-label^="sandbox,"]';
export const ray = (name: string) => `li.rc-kind-rayCluster[aria-label^="${name},"]`;

/** The hub's REST API as the tests' admin service. */
export async function hubApi(path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${hubUrl}/hub/api${path}`, {
    ...init,
    headers: { Authorization: `token ${adminToken}`, ...(init.headers ?? {}) },
  });
}

export interface ServerModel {
  ready: boolean;
  pending: string | null;
  url: string;
  state?: { pid?: number };
}

export async function serverOf(name: string): Promise<ServerModel | undefined> {
  const r = await hubApi(`/users/${name}`);
  expect(r.status, `GET /hub/api/users/${name}`).toBe(200);
  return ((await r.json()) as { servers?: Record<string, ServerModel> }).servers?.[''];
}

/** A hub API token of `name` that may use their server only (kept in memory, expires in 10 minutes). */
export async function serverToken(name: string): Promise<string> {
  const r = await hubApi(`/users/${name}/tokens`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      note: 'e2e-jupyterhub',
      expires_in: 600,
      scopes: [`access:servers!user=${name}`],
    }),
  });
  expect(r.status, `POST /hub/api/users/${name}/tokens`).toBe(201);
  return ((await r.json()) as { token: string }).token;
}

/** Waits (with a deadline) until `check` gives something truthy. */
export async function until<T>(
  what: string,
  ms: number,
  check: () => Promise<T | undefined | false>,
): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await check();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${what}: not within ${ms / 1000} s${last ? ` (${String(last)})` : ''}`);
}

/** Logs in on the hub's own login page and lands in `/user/<name>/lab`. */
export async function hubLogin(page: Page, name: string): Promise<void> {
  await page.goto(`/user/${name}/lab`);
  await expect(page).toHaveURL(/\/hub\/login/);
  await page.locator('#username_input').fill(name);
  await page.locator('#password_input').fill(password);
  await page.locator('#login_submit').click();
  await expect(page).toHaveURL(new RegExp(`/user/${name}/lab`));
  await expect(page.locator('.lm-TabBar-tab[data-id="ray-connect-panel"]')).toBeVisible();
  await page.waitForFunction(() => 'jupyterapp' in window);
}

export async function openPanel(page: Page): Promise<void> {
  if (!(await page.locator('#ray-connect-panel').isVisible()))
    await page.locator('.lm-TabBar-tab[data-id="ray-connect-panel"]').click();
  await expect(page.locator('#ray-connect-panel')).toBeVisible();
  await expect(page.locator(`#ray-connect-panel ${CLUSTER}`)).toBeVisible();
}

export async function chooseSignIn(page: Page, label: string): Promise<void> {
  await page.locator(`${CLUSTER} > .rc-row .rc-action-signIn`).click();
  const dialog = page.locator('.jp-Dialog');
  await dialog.locator('select').selectOption({ label });
  await dialog.locator('.jp-mod-accept').click();
}

export async function signOutIfSignedIn(page: Page): Promise<void> {
  const signOut = page.locator(`${CLUSTER} > .rc-row .rc-action-signOut`);
  if (await signOut.count()) {
    await signOut.click();
    await expect(page.locator(`${CLUSTER} > .rc-row .rc-action-signIn`)).toBeVisible();
  }
}

// ---- JupyterLab in the page (window.jupyterapp: expose_app_in_browser in the servers' config)
interface Output {
  output_type: string;
  text?: string | string[];
  data?: Record<string, string | string[]>;
  ename?: string;
  evalue?: string;
}
interface LabApp {
  commands: { execute(id: string, args?: Record<string, unknown>): Promise<unknown> };
  shell: { currentWidget: unknown; widgets(area: string): Iterable<unknown>; activateById(id: string): void };
}
interface NotebookLike {
  sessionContext: { ready: Promise<void> };
  content: {
    activeCellIndex: number;
    widgets: { model: { sharedModel: { setSource(s: string): void }; outputs: { toJSON(): Output[] } } }[];
  };
}
interface TerminalLike {
  content: { session: { connectionStatus: string } };
}
type LabWindow = { jupyterapp: LabApp };

export async function execute(page: Page, id: string, args: Record<string, unknown> = {}): Promise<void> {
  // The command's result (often a widget) cannot be serialised: keep it in the page.
  await page.evaluate(
    async ([i, a]) => {
      await (window as unknown as LabWindow).jupyterapp.commands.execute(
        i as string,
        a as Record<string, unknown>,
      );
    },
    [id, args] as const,
  );
}

/** A new notebook (Python 3 kernel), the current widget afterwards. */
export async function newNotebook(page: Page): Promise<void> {
  const before = await page.locator('.jp-NotebookPanel').count();
  await execute(page, 'notebook:create-new', { kernelName: 'python3' });
  await expect(page.locator('.jp-NotebookPanel')).toHaveCount(before + 1);
}

/** Runs `code` as the first cell of the current notebook and returns its text output (streams, results, errors). */
export async function runCell(page: Page, code: string): Promise<string> {
  return page.evaluate(async (src) => {
    const app = (window as unknown as LabWindow).jupyterapp;
    const isNotebook = (w: unknown): w is NotebookLike =>
      !!w &&
      typeof w === 'object' &&
      'sessionContext' in w &&
      'content' in w &&
      'widgets' in (w as NotebookLike).content;
    let panel = app.shell.currentWidget;
    if (!isNotebook(panel)) {
      // the last notebook opened, made current (run-cell acts on the current one)
      panel = [...app.shell.widgets('main')].filter(isNotebook).pop();
      if (!isNotebook(panel)) throw new Error('no notebook is open');
      app.shell.activateById((panel as unknown as { id: string }).id);
    }
    await panel.sessionContext.ready;
    panel.content.activeCellIndex = 0;
    const cell = panel.content.widgets[0]!;
    cell.model.sharedModel.setSource(src);
    await app.commands.execute('notebook:run-cell');
    const join = (v: string | string[] | undefined) => (Array.isArray(v) ? v.join('') : (v ?? ''));
    return cell.model.outputs
      .toJSON()
      .map((o) =>
        o.output_type === 'error'
          ? `${o.ename}: ${o.evalue}\n`
          : join(o.text) || join(o.data?.['text/plain']),
      )
      .join('');
  }, code);
}

/** Multi-line code as one line (exec of a JSON = Python string literal). */
export const asOneLine = (code: string) => `exec(${JSON.stringify(code)})`;

/**
 * Opens a new terminal, types `command` (run in the server's root dir; it must write `file` there, atomically) and returns
 * the file's content, read on the host. Typed again if the terminal was not connected yet.
 */
export async function terminalRun(page: Page, user: string, command: string, file: string): Promise<string> {
  const dir = join(info.users[user]!.dir, 'notebooks');
  const path = join(dir, file);
  rmSync(path, { force: true });
  await execute(page, 'terminal:create-new');
  const term = page.locator('.jp-Terminal').last();
  await expect(term).toBeVisible();
  await page.waitForFunction(
    () =>
      ((window as unknown as LabWindow).jupyterapp.shell.currentWidget as TerminalLike | null)?.content
        ?.session?.connectionStatus === 'connected',
  );
  return until(`the terminal wrote ${file}`, 60_000, async () => {
    if (!existsSync(path)) {
      await term.click();
      await page.keyboard.type(`cd "${dir}" && ${command}\n`);
      await until(`${file} (typed once)`, 10_000, async () => existsSync(path)).catch(() => undefined);
    }
    return existsSync(path) ? readFileSync(path, 'utf8') : undefined;
  });
}

/** The names of the RAY_* variables of a new terminal and the token's length (never the values). */
export const TERMINAL_ENV = (file: string) =>
  `(env | grep '^RAY_' | sed 's/=.*//' | sort; echo "token-length=\${#RAY_AUTH_TOKEN}"; echo "uid=$(id -u)") > ${file}.tmp && mv ${file}.tmp ${file}`;

/** The sandbox cluster's id as the agent names it (listClusters through the server, as the page calls it). */
export async function labCall<T>(page: Page, user: string, method: string, args: unknown[] = []): Promise<T> {
  return page.evaluate(
    async ([u, m, a]) => {
      const xsrf = document.cookie.match(/(?:^|;\s*)_xsrf=([^;]*)/)?.[1] ?? '';
      const r = await fetch(`/user/${u}/ray-connect/call/${m}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-XSRFToken': decodeURIComponent(xsrf) },
        body: JSON.stringify({ args: a }),
      });
      if (!r.ok) throw new Error(`${m}: HTTP ${r.status} ${await r.text()}`);
      return ((await r.json()) as { result: unknown }).result;
    },
    [user, method, args] as const,
  ) as Promise<T>;
}

// ---- processes as another unix user
export interface Probe {
  http?: number;
  error?: string;
  bytes?: number;
  firstFrameType?: number;
}

/**
 * Python for a forward probe (run as a given uid): `http <url>` GETs <url>/api/version (with the Bearer token of
 * its own env, if any: a process of alice's has her env), `grpc <host> <port>` sends the HTTP/2 preface and an
 * empty SETTINGS frame and reports what comes back (a Ray Client server answers with its SETTINGS frame).
 * Prints one JSON line; never the token.
 */
export const PROBE_PY = `
import json, os, socket, sys, urllib.request
out = {}
try:
    if sys.argv[1] == "http":
        req = urllib.request.Request(sys.argv[2].rstrip("/") + "/api/version")
        tok = os.environ.get("RAY_AUTH_TOKEN")
        if tok:
            req.add_header("Authorization", "Bearer " + tok)
        try:
            out["http"] = urllib.request.urlopen(req, timeout=10).status
        except urllib.error.HTTPError as e:
            out["http"] = e.code
    else:
        s = socket.create_connection((sys.argv[2], int(sys.argv[3])), timeout=10)
        s.sendall(b"PRI * HTTP/2.0\\r\\n\\r\\nSM\\r\\n\\r\\n" + bytes([0, 0, 0, 4, 0, 0, 0, 0, 0]))
        data = b""
        try:
            while len(data) < 9:
                chunk = s.recv(1024)
                if not chunk:
                    break
                data += chunk
        except socket.timeout:
            pass
        out["bytes"] = len(data)
        if len(data) >= 4:
            out["firstFrameType"] = data[3]
except Exception as e:
    out["error"] = type(e).__name__ + ": " + str(e)
print(json.dumps(out))
`;

/** Runs PROBE_PY as unix user `user` (its uid and gid, a bare env: none of alice's variables). */
export function probeAs(user: string, args: string[]): Promise<Probe> {
  const u = info.users[user]!;
  return new Promise((resolve, reject) => {
    const p = spawn(join(info.venv, 'bin', 'python'), ['-c', PROBE_PY, ...args], {
      uid: u.uid,
      gid: u.gid,
      cwd: '/',
      env: { PATH: '/usr/bin:/bin', HOME: '/nonexistent' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    p.stdout.on('data', (c) => (out += c));
    p.stderr.on('data', (c) => (err += c));
    p.on('error', reject);
    p.on('close', (code) => {
      try {
        resolve(JSON.parse(out.trim().split('\n').pop() ?? '') as Probe);
      } catch {
        reject(new Error(`probe as ${user} exited ${code}: ${out} ${err}`));
      }
    });
  });
}

/** The uid a process runs as (from /proc). */
export function uidOf(pid: number): number {
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^Uid:\s+(\d+)/m);
  return Number(m?.[1]);
}

// ---- the network log
export interface LoggedRequest {
  url: string;
  method: string;
  /** The URL this request was redirected from, first of the chain. */
  redirectedFrom?: string;
  /** ms since the log started. */
  at: number;
  phase: string;
}

/**
 * Records every request and websocket of `page`. The phase is `login` until the main frame commits a URL under
 * `labPath` (the hub's login and OAuth pages come before), then `lab`; tests may set other phases.
 */
export class NetworkLog {
  readonly requests: LoggedRequest[] = [];
  readonly websockets: { url: string; phase: string }[] = [];
  private started = Date.now();
  phase = 'login';

  attach(page: Page, labPath: string): this {
    page.on('framenavigated', (frame) => {
      if (
        this.phase === 'login' &&
        frame === page.mainFrame() &&
        new URL(frame.url()).pathname.startsWith(labPath)
      )
        this.phase = 'lab';
    });
    page.on('request', (r: Request) => {
      let first = r.redirectedFrom();
      while (first?.redirectedFrom()) first = first.redirectedFrom();
      this.requests.push({
        url: r.url(),
        method: r.method(),
        redirectedFrom: first?.url(),
        at: Date.now() - this.started,
        phase: this.phase,
      });
    });
    page.on('websocket', (ws: WebSocket) => this.websockets.push({ url: ws.url(), phase: this.phase }));
    return this;
  }
}
