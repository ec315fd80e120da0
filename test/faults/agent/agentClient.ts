// A client for the real agent binary: start it with a fresh secret, raw HTTP to it.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { cliBin } from '../helpers.js';

export interface Agent {
  child: ChildProcess;
  port: number;
  secret: string;
  stderr: () => string;
  stdout: () => string;
  exited: Promise<number | null>;
}

export async function startAgent(
  env: NodeJS.ProcessEnv,
  secret = randomBytes(24).toString('hex'),
): Promise<Agent> {
  const child = spawn(process.execPath, [cliBin, 'serve', '--port', '0'], {
    env: { ...env, RAY_CONNECT_AGENT_SECRET: secret },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (c) => (stderr += c));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (c) => {
      stdout += c;
      const line = stdout.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve((JSON.parse(line) as { port: number }).port);
    });
    void exited.then((code) => reject(new Error(`agent exited ${code}: ${stderr}`)));
  });
  return { child, port, secret, stderr: () => stderr, stdout: () => stdout, exited };
}

interface Res {
  status: number;
  body: string;
  headers: Record<string, unknown>;
}

/** Raw HTTP (node:http, so we control every header and can stream chunked bodies). */
export function http(
  port: number,
  path: string,
  o: { method?: string; headers?: Record<string, string>; body?: string | Buffer; chunks?: Buffer[] } = {},
): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, agent: false, method: o.method ?? 'POST', headers: o.headers ?? {} },
      (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      },
    );
    req.on('error', (e: NodeJS.ErrnoException) => {
      // The agent may answer 413 and close before we finish sending.
      if (e.code === 'EPIPE' || e.code === 'ECONNRESET') resolve({ status: -1, body: e.code, headers: {} });
      else reject(e);
    });
    if (o.chunks) {
      let i = 0;
      const next = () => {
        if (i >= o.chunks!.length) return req.end();
        if (!req.write(o.chunks![i++]!)) req.once('drain', next);
        else setImmediate(next);
      };
      next();
    } else req.end(o.body);
  });
}
