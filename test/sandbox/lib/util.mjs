// Small helpers shared by the sandbox modules: paths, logging, child processes, pid files, ports, waiting.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const sandboxRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const repoRoot = resolve(sandboxRoot, '..', '..');
export const cacheDir = process.env.RC_CACHE || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'ray-connect');
export const binDir = join(cacheDir, 'bin');
export const stateDir = join(cacheDir, 'sandbox');
export const bin = (name) => join(binDir, name);

export const paths = {
  state: stateDir,
  pki: join(stateDir, 'pki'),
  logs: join(stateDir, 'logs'),
  run: join(stateDir, 'run'),
  data: join(stateDir, 'data'),
  config: join(stateDir, 'config'),
  secrets: join(stateDir, 'secrets'),
  kubeconfigs: join(stateDir, 'kubeconfigs'),
  stateFile: join(stateDir, 'state.json'),
};

export function ensureDirs() {
  for (const d of Object.values(paths)) if (!d.endsWith('.json')) mkdirSync(d, { recursive: true, mode: 0o700 });
  chmodSync(paths.secrets, 0o700);
  chmodSync(paths.pki, 0o700);
}

let quiet = false;
export function setQuiet(q) {
  quiet = q;
}
export function say(msg) {
  if (!quiet) process.stderr.write(`[sandbox] ${msg}\n`);
}

/** Writes a file readable only by us (secrets, keys, kubeconfigs with tokens). */
export function writePrivate(file, content) {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, content, { mode: 0o600 });
  chmodSync(file, 0o600);
}

export function readJson(file, fallback) {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return fallback;
  }
}

/** Runs a command to completion; throws with its output on failure. `input` goes to stdin (keeps secrets out of argv). */
export function run(cmd, args, { input, env, cwd, allowFail = false, timeoutMs = 600_000 } = {}) {
  const r = spawnSync(cmd, args, { input, env: env ?? process.env, cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: timeoutMs });
  if (r.error) {
    if (allowFail) return { code: -1, stdout: '', stderr: String(r.error) };
    throw new Error(`${cmd} ${args.join(' ')}: ${r.error.message}`);
  }
  if (r.status !== 0 && !allowFail) {
    throw new Error(`${cmd.split('/').pop()} ${args.join(' ')} failed (exit ${r.status}):\n${(r.stderr || r.stdout).trim()}`);
  }
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Like run() but async and streaming output to our stderr (long builds/installs). */
export function runStreaming(cmd, args, { env, cwd } = {}) {
  return new Promise((res, rej) => {
    const p = spawn(cmd, args, { env: env ?? process.env, cwd, stdio: ['ignore', 'inherit', 'inherit'] });
    p.on('error', rej);
    p.on('exit', (code) => (code === 0 ? res() : rej(new Error(`${cmd} ${args.join(' ')} failed (exit ${code})`))));
  });
}

export const pidFile = (name) => join(paths.run, `${name}.pid`);
export const logFile = (name) => join(paths.logs, `${name}.log`);

export function isAlive(pid) {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // a zombie counts as dead
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (/\) Z /.test(stat)) return false;
  } catch {
    return false;
  }
  return true;
}

function cmdlineOf(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

/** The pid from NAME.pid if that process still runs the program we started (guards against pid reuse). */
export function runningPid(name) {
  let rec;
  try {
    rec = JSON.parse(readFileSync(pidFile(name), 'utf8'));
  } catch {
    return undefined;
  }
  if (!isAlive(rec.pid)) return undefined;
  const argv = cmdlineOf(rec.pid);
  if (!argv.length || argv[0] !== rec.cmd) return undefined;
  return rec.pid;
}

/** Starts a long-lived daemon detached from us, output to logs/NAME.log, pid recorded in run/NAME.pid. */
export function startDaemon(name, cmd, args, { env, cwd } = {}) {
  const out = openSync(logFile(name), 'a');
  writeFileSync(logFile(name), `\n--- ${new Date().toISOString()} starting ${name}\n`, { flag: 'a' });
  const child = spawn(cmd, args, { detached: true, stdio: ['ignore', out, out], env: env ?? process.env, cwd: cwd ?? stateDir });
  closeSync(out);
  child.unref();
  writeFileSync(pidFile(name), JSON.stringify({ pid: child.pid, cmd, started: new Date().toISOString() }));
  return child.pid;
}

/** Stops NAME if it is running and ours; SIGTERM, then SIGKILL after a grace period. */
export async function stopDaemon(name, graceMs = 10_000) {
  const pid = runningPid(name);
  rmSync(pidFile(name), { force: true });
  if (!pid) return false;
  try {
    process.kill(-pid, 'SIGTERM'); // the daemon leads its own process group (detached)
  } catch {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      /* gone */
    }
  }
  const until = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < until) await sleep(100);
  if (isAlive(pid)) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  return true;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls check() until it returns truthy; throws with `what` and the last error after timeoutMs. */
export async function waitFor(what, check, { timeoutMs = 60_000, intervalMs = 250, logName } = {}) {
  const until = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (logName && !runningPid(logName)) {
      throw new Error(`${what}: the process exited; see ${logFile(logName)}:\n${tail(logFile(logName), 15)}`);
    }
    if (Date.now() > until) {
      throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}${logName ? `; see ${logFile(logName)}` : ''}`);
    }
    await sleep(intervalMs);
  }
}

export function tail(file, n = 20) {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-n).join('\n');
  } catch {
    return '';
  }
}

/** True when nothing listens on 127.0.0.1:port (we can bind it). */
export function portFree(port, host = '127.0.0.1') {
  return new Promise((res) => {
    const s = createServer();
    s.once('error', () => res(false));
    s.listen({ port, host, exclusive: true }, () => s.close(() => res(true)));
  });
}

/** Which process listens on a TCP port (best effort, for error messages). */
export function whoListens(port) {
  const r = run('ss', ['-ltnpH', `sport = :${port}`], { allowFail: true });
  const m = /users:\(\("([^"]+)",pid=(\d+)/.exec(r.stdout || '');
  return m ? `${m[1]} (pid ${m[2]})` : 'another process';
}

export function exists(p) {
  return existsSync(p);
}
