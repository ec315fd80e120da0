// Child process helpers: start, wait for a ready line, read RSS, stop (by pid, never by name).
import { performance } from 'node:perf_hooks';
import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';

const live = new Set();

/**
 * Starts cmd; resolves when a stdout/stderr line matches `ready` (RegExp or (line) => value|undefined), with
 * { child, match, lines }. Rejects if the process exits first or after timeoutMs (and kills it).
 */
export function startChild(cmd, args, { ready, timeoutMs = 30_000, env, cwd, stdin = 'pipe' } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: env ?? process.env, cwd, stdio: [stdin, 'pipe', 'pipe'] });
    live.add(child);
    child.on('exit', () => live.delete(child));
    const lines = [];
    let done = false;
    const timer = setTimeout(() => finish(new Error(`${cmd} not ready after ${timeoutMs} ms: ${tail(lines)}`)), timeoutMs);
    const finish = (err, match) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (err) {
        stopChild(child);
        reject(err);
      } else resolve({ child, match, lines });
    };
    const onData = (buf) => {
      for (const line of buf.toString('utf8').split('\n')) {
        if (!line.trim()) continue;
        if (lines.length < 200) lines.push(line);
        if (done || !ready) continue;
        try {
          const m = typeof ready === 'function' ? ready(line) : line.match(ready);
          if (m) finish(undefined, m);
        } catch (e) {
          finish(e);
        }
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (e) => finish(e));
    child.on('exit', (code, signal) => finish(new Error(`${cmd} exited (${code ?? signal}) before ready: ${tail(lines)}`)));
    if (!ready) finish(undefined, undefined);
  });
}

function tail(lines) {
  return lines.slice(-3).join(' | ').slice(0, 400) || '(no output)';
}

/** SIGTERM, then SIGKILL after graceMs. Resolves when it exited. */
export function stopChild(child, graceMs = 3000) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Stops every child started through startChild that is still running (used on exit). */
export async function stopAll() {
  await Promise.all([...live].map((c) => stopChild(c, 1500)));
}

/** Runs a command to completion; resolves { code, stdout, stderr, ms }. Never rejects (code 127 if not started). */
export function exec(cmd, args, { timeoutMs = 60_000, env, input, cwd, maxBuffer = 64 * 1024 * 1024 } = {}) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = execFile(cmd, args, { timeout: timeoutMs, env: env ?? process.env, cwd, maxBuffer }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : err.killed ? 124 : 127) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) || (err && code === 127 ? err.message : ''), ms: performance.now() - t0 });
    });
    if (input !== undefined) child.stdin.end(input);
  });
}

/** VmRSS / VmHWM of a pid in MiB (Linux /proc). */
export function rssMiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key) => Number(status.match(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm'))?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
}

/** A free TCP port on 127.0.0.1 (racy by nature; good enough for a benchmark). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Resolves once a TCP connect to 127.0.0.1:port succeeds; rejects after timeoutMs. */
export async function waitForPort(port, timeoutMs = 15_000) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (performance.now() > deadline) throw new Error(`nothing listening on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** User+system CPU time of a pid in ms (Linux /proc/<pid>/stat; clock ticks of 10 ms). */
export function cpuMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}
