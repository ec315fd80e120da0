// Helpers for the sandbox tier: free ports, `kubectl port-forward` to a head pod, Ray's own CLI from the venv,
// plain HTTP against a forwarded Ray dashboard. Child processes are tracked and killed in `cleanup()`.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';

export const cacheDir =
  process.env.RC_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'ray-connect');
export const kubectlBin = join(cacheDir, 'bin', 'kubectl');
export const rayBin = join(cacheDir, 'ray-venv', 'bin', 'ray');
export const NAMESPACE = 'ray-demo';

const children = new Set<ChildProcess>();

/** A port nobody listens on right now (bound on :0 and released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export interface Forward {
  port: number;
  close(): Promise<void>;
}

/**
 * `kubectl port-forward pod/<pod> <free local port>:<remotePort>` with the given kubeconfig. Resolves once kubectl
 * says "Forwarding from"; retries with another port if the chosen one was taken in between.
 */
export async function portForward(pod: string, remotePort: number, kubeconfig: string): Promise<Forward> {
  let lastError = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const child = spawn(
      kubectlBin,
      [
        '--kubeconfig',
        kubeconfig,
        'port-forward',
        '-n',
        NAMESPACE,
        '--address',
        '127.0.0.1',
        `pod/${pod}`,
        `${port}:${remotePort}`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    children.add(child);
    const ok = await new Promise<boolean>((resolve) => {
      let out = '';
      const onData = (d: Buffer) => {
        out += d.toString();
        if (out.includes('Forwarding from')) resolve(true);
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', (d: Buffer) => {
        lastError += d.toString();
      });
      child.once('exit', () => resolve(false));
      child.once('error', (e) => {
        lastError += e.message;
        resolve(false);
      });
    });
    if (ok) return { port, close: () => stop(child) };
    await stop(child);
  }
  throw new Error(`kubectl port-forward to pod/${pod}:${remotePort} failed: ${lastError.trim()}`);
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      children.delete(child);
      return resolve();
    }
    child.once('exit', () => {
      children.delete(child);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Kills every child this module started (port-forwards, stray Ray CLIs). */
export async function cleanup(): Promise<void> {
  await Promise.all([...children].map(stop));
}

export interface RunResult {
  code: number | null;
  out: string;
}

/** Environment for a child without anything that steers Ray or Kubernetes from the parent. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(RAY_|KUBERNETES_)/.test(k) || k === 'KUBECONFIG') continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

/**
 * `ray job submit --address http://127.0.0.1:<port> -- python -c 'print(42)'` from the Ray venv.
 * `token`: sets RAY_AUTH_MODE=token and RAY_AUTH_TOKEN in the child env only; without it RAY_AUTH_MODE is unset,
 * so the CLI sends no credential. HOME is a fresh temp dir so no ~/.ray/auth_token can leak in. The token never
 * appears in argv, and is redacted from the returned output.
 */
export async function rayJobSubmit(port: number, token?: string, timeoutMs = 180_000): Promise<RunResult> {
  const home = mkdtempSync(join(tmpdir(), 'rc-sandbox-home-'));
  try {
    const env = cleanEnv({ HOME: home, ...(token ? { RAY_AUTH_MODE: 'token', RAY_AUTH_TOKEN: token } : {}) });
    return await runChild(
      rayBin,
      ['job', 'submit', '--address', `http://127.0.0.1:${port}`, '--', 'python', '-c', 'print(42)'],
      env,
      timeoutMs,
      token,
    );
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

function runChild(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number, secret?: string) {
  return new Promise<RunResult>((resolve) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (e) => (out += e.message));
    child.once('close', (code) => {
      clearTimeout(timer);
      children.delete(child);
      resolve({ code, out: secret ? out.split(secret).join('[REDACTED]') : out });
    });
  });
}

/** GET http://127.0.0.1:<port><path> with an optional bearer token; resolves to the HTTP status. */
export async function getStatus(port: number, path: string, token?: string): Promise<number> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`, {
    headers: token ? { Authorization: `Bearer ${token}` } : {},
    signal: AbortSignal.timeout(30_000),
  });
  await r.arrayBuffer();
  return r.status;
}

/** The authentication mode a dashboard reports (public endpoint). */
export async function authMode(port: number): Promise<string> {
  const r = await fetch(`http://127.0.0.1:${port}/api/authentication_mode`, {
    signal: AbortSignal.timeout(30_000),
  });
  return ((await r.json()) as { authentication_mode: string }).authentication_mode;
}

/** True if the job ran and printed 42 (the CLI's own success line and the job's output). */
export const jobSucceeded = (r: RunResult) => r.code === 0 && /\b42\b/.test(r.out) && /succeeded/.test(r.out);
