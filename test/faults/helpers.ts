// Shared helpers for the fault tier: temp dirs, the CLI, a sandbox view, a stack-trace detector.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSandbox } from '../sandbox/client.mjs';

export interface FaultSandbox {
  apiServer: string;
  caFile: string;
  adminKubeconfig: string;
  namespace: string;
  oidc: { issuer: string; clientId: string; caFile: string; tokenTtlSeconds: number };
  rayClusters: Record<string, string>;
  rayClusterDetails: Record<string, { name: string; headPod: string; secretName?: string; rayHead: string }>;
}
export const sandbox = () => readSandbox() as unknown as FaultSandbox;

export const tempDir = (prefix = 'rc-faults-') => mkdtempSync(join(tmpdir(), prefix));
export const cliBin = new URL('../../packages/cli/bin/ray-connect.js', import.meta.url).pathname;

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  input?: string,
  timeoutMs = 60_000,
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const p = spawn(command, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.stdout.on('data', (c) => (stdout += c));
    p.stderr.on('data', (c) => (stderr += c));
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
    p.stdin.end(input ?? '');
  });
}

/** The CLI with a private HOME/config dir, memory secrets and no browser. */
export function cliEnv(kubeconfig: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: tempDir('rc-faults-home-'),
    KUBECONFIG: kubeconfig,
    RAY_CONNECT_CONFIG_DIR: tempDir('rc-faults-cfg-'),
    RAY_CONNECT_SECRET_STORE: 'memory',
    RAY_CONNECT_BROWSER: 'none',
    ...extra,
  };
}

export const cli = (args: string[], env: NodeJS.ProcessEnv, input?: string) =>
  run(process.execPath, [cliBin, ...args], env, input);

/** True when text looks like a JS stack trace (`    at fn (file:line:col)`). */
export function hasStackTrace(text: string): boolean {
  return /^\s+at\s.+[:(]/m.test(text) || /node:internal/.test(text);
}

/** A localhost port nobody listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export function writeJson(file: string, value: unknown): string {
  writeFileSync(file, JSON.stringify(value), { mode: 0o600 });
  return file;
}

/** A valid one-context kubeconfig object for the sandbox, with a user entry. */
export function kubeconfigFor(
  user: Record<string, unknown>,
  cluster: Record<string, unknown> = {},
): Record<string, unknown> {
  const s = sandbox();
  return {
    apiVersion: 'v1',
    kind: 'Config',
    'current-context': 'f',
    clusters: [
      { name: 'sandbox', cluster: { server: s.apiServer, 'certificate-authority': s.caFile, ...cluster } },
    ],
    users: [{ name: 'u', user }],
    contexts: [{ name: 'f', context: { cluster: 'sandbox', user: 'u', namespace: s.namespace } }],
  };
}
