// Shared setup for the Ray and CLI integration tests: sandbox users as kubeconfig files, the facade, the CLI binary.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createRayConnect,
  FakeBrowser,
  MemorySecretStore,
  type RayConnect,
  silentLogger,
  systemClock,
} from '../../../packages/core/src/index.js';
import { kubectl, oidcLogin, readSandbox } from '../../sandbox/client.mjs';

export interface Sandbox {
  apiServer: string;
  caFile: string;
  adminKubeconfig: string;
  namespace: string;
  rayClusters: Record<string, string>;
  rayClusterDetails: Record<string, { name: string; headPod: string; secretName?: string; rayHead: string }>;
}

export const sandbox = () => readSandbox() as unknown as Sandbox;
export const tempDir = (prefix = 'rc-ray-it-') => mkdtempSync(join(tmpdir(), prefix));
export const rayVenv = join(process.env.RC_CACHE || join(homedir(), '.cache', 'ray-connect'), 'ray-venv');
export const cliBin = new URL('../../../packages/cli/bin/ray-connect.js', import.meta.url).pathname;

/** A kubeconfig (0600) whose user is a sandbox OIDC user, with a fresh id_token from a real device flow. */
export async function userKubeconfig(user: 'alice' | 'bob', dir = tempDir()): Promise<string> {
  const s = sandbox();
  const { idToken } = (await oidcLogin(user)) as { idToken: string };
  const file = join(dir, `${user}.kubeconfig`);
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    'current-context': `sandbox-${user}`,
    clusters: [{ name: 'sandbox', cluster: { server: s.apiServer, 'certificate-authority': s.caFile } }],
    users: [{ name: user, user: { token: idToken } }],
    contexts: [{ name: `sandbox-${user}`, context: { cluster: 'sandbox', user, namespace: s.namespace } }],
  };
  writeFileSync(file, JSON.stringify(config), { mode: 0o600 });
  return file;
}

/** The facade on a kubeconfig, with memory secrets and a temp config dir. */
export function facade(kubeconfig: string): RayConnect {
  return createRayConnect({
    store: new MemorySecretStore(),
    logger: silentLogger,
    clock: systemClock,
    browser: new FakeBrowser(),
    configDir: tempDir('rc-config-'),
    env: { KUBECONFIG: kubeconfig },
    homedir: tempDir('rc-home-'),
    version: 'it',
  });
}

/** The Ray token as stored in a Secret, read as admin (for comparison; never printed). */
export async function secretToken(name: string, namespace: string): Promise<string> {
  const r = await kubectl(['get', 'secret', name, '-n', namespace, '-o', 'jsonpath={.data.auth_token}']);
  if (r.code !== 0) throw new Error(`kubectl get secret ${name}: ${r.stderr}`);
  return Buffer.from(r.stdout, 'base64').toString('utf8').trim();
}

/** Deletes the head pod and creates it again from its own JSON (as admin), like a restart with the same name. */
export async function recreatePod(name: string, namespace: string): Promise<void> {
  const got = await kubectl(['get', 'pod', name, '-n', namespace, '-o', 'json']);
  if (got.code !== 0) throw new Error(`kubectl get pod ${name}: ${got.stderr}`);
  const pod = JSON.parse(got.stdout) as { metadata: Record<string, unknown>; status?: unknown };
  for (const k of [
    'uid',
    'resourceVersion',
    'creationTimestamp',
    'managedFields',
    'generation',
    'deletionTimestamp',
    'deletionGracePeriodSeconds',
  ])
    delete pod.metadata[k];
  delete pod.status;
  const del = await kubectl([
    'delete',
    'pod',
    name,
    '-n',
    namespace,
    '--wait=true',
    '--grace-period=0',
    '--force',
  ]);
  if (del.code !== 0) throw new Error(`kubectl delete pod ${name}: ${del.stderr}`);
  const created = await kubectl(['create', '-f', '-'], { input: JSON.stringify(pod) });
  if (created.code !== 0) throw new Error(`kubectl create pod ${name}: ${created.stderr}`);
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion. */
export function run(command: string, args: string[], env: NodeJS.ProcessEnv, input?: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const p = spawn(command, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c) => (stdout += c));
    p.stderr.on('data', (c) => (stderr += c));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    p.stdin.end(input ?? '');
  });
}

/** Environment for the CLI: a kubeconfig, a private config dir, memory secrets, no browser. */
export function cliEnv(kubeconfig: string, configDir = tempDir('rc-cli-')): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: tempDir('rc-home-'),
    KUBECONFIG: kubeconfig,
    RAY_CONNECT_CONFIG_DIR: configDir,
    RAY_CONNECT_SECRET_STORE: 'memory',
    RAY_CONNECT_BROWSER: 'none',
  };
}

/** `ray-connect connect` in the background; resolves once it says it is connected. */
export async function startConnect(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{
  child: ChildProcess;
  output: () => { stdout: string; stderr: string };
  stop(): Promise<number>;
}> {
  const child = spawn(process.execPath, [cliBin, 'connect', ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (c) => (stdout += c));
  child.stderr?.on('data', (c) => (stderr += c));
  const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
  await new Promise<void>((resolve, reject) => {
    const check = () => {
      if (stdout.includes('Press Ctrl-C') || stdout.includes('{"connection"')) resolve();
    };
    child.stdout?.on('data', check);
    void exited.then((code) => reject(new Error(`connect exited ${code}: ${stderr}`)));
  });
  return {
    child,
    output: () => ({ stdout, stderr }),
    stop: async () => {
      child.kill('SIGINT');
      return exited;
    },
  };
}

/** `ray job submit` from the Ray venv with exactly the given env (plus PATH/HOME). */
export function rayJobSubmit(
  env: Record<string, string>,
  marker: string,
  home = tempDir('rc-rayhome-'),
): Promise<Run> {
  return run(join(rayVenv, 'bin', 'ray'), ['job', 'submit', '--', 'python', '-c', `print('${marker}')`], {
    PATH: `${join(rayVenv, 'bin')}:${process.env.PATH}`,
    HOME: home,
    ...env,
  });
}
