// A Jupyter server of a spec's own (JupyterLab or Notebook 7), with its own port, work dir and agent state, so a
// spec can kill it and start another on the same port without touching the server the other specs use. Same venv,
// galata server config and sandbox kubeconfig as run.mjs.
import { expect, type Page } from '@playwright/test';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createToken, readSandbox } from '../../sandbox/client.mjs';

interface Launched {
  child: ChildProcess;
  baseUrl: string;
}
interface StartJupyterLab {
  launchJupyterLab(o: {
    app: 'lab' | 'notebook';
    port: number;
    token: string;
    rootDir: string;
    kubeconfig: string;
    env: Record<string, string>;
    extraArgs: string[];
    logFile: string;
  }): Promise<Launched>;
  writeSandboxKubeconfig(file: string, sandbox: unknown): string;
}

const here = process.cwd(); // run.mjs runs Playwright in test/e2e-jupyterlab
export const sandbox = readSandbox();
export const NS: string = sandbox.namespace;
export const CLUSTER = 'li.rc-kind-cluster[aria-label^="sandbox,"]';
export const ray = (name: string) => `li.rc-kind-rayCluster[aria-label^="${name},"]`;

export function freePort(): Promise<number> {
  return new Promise((res) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => res(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

export class OwnServer {
  readonly work: string;
  readonly configDir: string;
  child: ChildProcess | undefined;
  baseUrl = '';
  private start: StartJupyterLab | undefined;

  constructor(
    readonly app: 'lab' | 'notebook',
    readonly port: number,
  ) {
    this.work = mkdtempSync(join(tmpdir(), `rc-e2e-${app}-`));
    this.configDir = join(this.work, 'ray-connect');
  }

  /** Starts the server on its port (again after a kill: a new process, a new agent, the same agent state dir). */
  async launch(): Promise<void> {
    this.start ??= (await import(
      pathToFileURL(resolve(here, '..', '..', 'scripts', 'start-jupyterlab.mjs')).href
    )) as StartJupyterLab;
    const kubeconfig = this.start.writeSandboxKubeconfig(join(this.work, 'kubeconfig'), sandbox);
    const lab = await this.start.launchJupyterLab({
      app: this.app,
      port: this.port,
      token: '',
      rootDir: join(this.work, 'notebooks'),
      kubeconfig,
      env: {
        RAY_CONNECT_CONFIG_DIR: this.configDir,
        RAY_CONNECT_OIDC_ISSUER: sandbox.oidc.issuer,
        RAY_CONNECT_OIDC_CLIENT_ID: sandbox.oidc.clientId,
        RAY_CONNECT_OIDC_CA_FILE: sandbox.oidc.caFile,
        JUPYTERLAB_GALATA_ROOT_DIR: join(this.work, 'notebooks'),
        JUPYTER_CONFIG_DIR: join(this.work, 'jupyter', 'config'),
        JUPYTER_DATA_DIR: join(this.work, 'jupyter', 'data'),
        JUPYTER_RUNTIME_DIR: join(this.work, 'jupyter', 'runtime'),
        JUPYTERLAB_SETTINGS_DIR: join(this.work, 'jupyter', 'lab-settings'),
        JUPYTERLAB_WORKSPACES_DIR: join(this.work, 'jupyter', 'lab-workspaces'),
        IPYTHONDIR: join(this.work, 'jupyter', 'ipython'),
      },
      extraArgs: [`--config=${join(here, 'jupyter_server_test_config.py')}`],
      logFile: join(this.work, `${this.app}.log`),
    });
    this.child = lab.child;
    this.baseUrl = lab.baseUrl;
  }

  /** Ends the server process with `signal` (SIGKILL: no shutdown of any kind) and waits for its exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await exited;
  }

  /** Pids of this server's agents: `... serve` with our RAY_CONNECT_CONFIG_DIR in their environment. */
  agentPids(): number[] {
    const want = `\0RAY_CONNECT_CONFIG_DIR=${this.configDir}\0`;
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

  async dispose(): Promise<void> {
    await this.stop();
    for (const pid of this.agentPids()) process.kill(pid, 'SIGTERM');
    rmSync(this.work, { recursive: true, force: true });
  }
}

/** Signs in to the sandbox cluster with a pasted ServiceAccount token (as ray.spec.ts and restart.spec.ts do). */
export async function signInWithToken(page: Page): Promise<void> {
  const token: string = await createToken(NS, 'ray-user', { expirationSeconds: 600 });
  await page.locator(`${CLUSTER} > .rc-row .rc-action-signIn`).click();
  const dialog = page.locator('.jp-Dialog');
  await dialog.locator('select').selectOption({ label: 'Paste a token' });
  await dialog.locator('.jp-mod-accept').click();
  await page.locator('.jp-Dialog .rc-token-input').fill(token);
  await page.locator('.jp-Dialog .jp-mod-accept').click();
  await expect(page.locator(`${CLUSTER} > .rc-row`)).toContainText(`system:serviceaccount:${NS}:ray-user`);
  await expect(page.locator(ray('raycluster-noauth'))).toBeVisible();
}

/** Page errors thrown from Ray Connect's code (Notebook 7.6 itself throws one while loading settings). */
export function watchOurErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => {
    const where = `${e.message}\n${e.stack ?? ''}`;
    if (/ray[-_]connect/i.test(where)) errors.push(`pageerror: ${where}`);
  });
  return errors;
}
