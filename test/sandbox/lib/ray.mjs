// The Ray side of the sandbox: a pinned Ray venv and three real Ray heads on 127.0.0.1.
// Plain Node ESM, built-ins only (runs before `pnpm install`).
//
//   token   RAY_AUTH_MODE=token, static token (env only)          dashboard 18265, gcs 6379, client 10001
//   rbac    RAY_AUTH_MODE=token + RAY_ENABLE_K8S_TOKEN_AUTH=true  dashboard 18266, gcs 6380, client 10002
//           (TokenReview + SubjectAccessReview ray:write on ray-demo/raycluster-rbac against the sandbox apiserver)
//   noauth  RAY_AUTH_MODE=disabled                                dashboard 18267, gcs 6381, client 10003
//
// Every head has its own --temp-dir (<stateDir>/ray/<name>) and its own block of node-manager, object-manager,
// metrics, agent and worker ports, so the three never clash. Processes of a head are found by a marker in their
// environment (RC_RAY_HEAD=<name>@<stateDir>), which every Ray child inherits: stopping a head kills exactly the
// processes it started, never other Ray instances on the machine (`ray stop` is not scoped, so we never use it).
//
// The RBAC head reads fixed paths /var/run/secrets/kubernetes.io/serviceaccount/{token,ca.crt} (Ray's
// k8s_constants.h; the token is also Ray's own internal credential in that mode, so the ServiceAccount needs
// create tokenreviews/subjectaccessreviews AND ray:write on the cluster). They are provided in a private mount
// namespace (`unshare --mount`, an overlay on /run backed by a tmpfs): the host's /run is never written.
//
// CLI (manual use): node test/sandbox/lib/ray.mjs ensure | start [stateDir] | stop [stateDir] | status [stateDir]
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Ray from PyPI, pinned exactly (>= 2.55 for Kubernetes token auth). */
export const RAY_VERSION = '2.59.0';
export const RAY_REQUIREMENT = `ray[default]==${RAY_VERSION}`;

export const cacheDir =
  process.env.RC_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'ray-connect');
export const rayVenvDir = join(cacheDir, 'ray-venv');
export const rayBin = join(rayVenvDir, 'bin', 'ray');
export const rayPython = join(rayVenvDir, 'bin', 'python');

/**
 * The heads. `mode` is what GET /api/authentication_mode must answer. RC_RAY_PORT_OFFSET (e.g. 1000) shifts every
 * port, for a second sandbox on the same machine (with its own RC_CACHE and RC_SANDBOX_PORT_*).
 */
const OFFSET = Number(process.env.RC_RAY_PORT_OFFSET) || 0;
const head = (name, mode, dashboard, gcs, client, block) =>
  Object.freeze({
    name,
    mode,
    dashboard: dashboard + OFFSET,
    gcs: gcs + OFFSET,
    client: client + OFFSET,
    block: block + OFFSET,
  });
export const HEADS = Object.freeze({
  token: head('token', 'token', 18265, 6379, 10001, 25000),
  rbac: head('rbac', 'token', 18266, 6380, 10002, 25200),
  noauth: head('noauth', 'disabled', 18267, 6381, 10003, 25400),
});
export const HEAD_NAMES = Object.freeze(Object.keys(HEADS));

/** Which RayCluster the RBAC head authorizes against (RAY_CLUSTER_NAME / RAY_CLUSTER_NAMESPACE). */
export const RBAC_CLUSTER = Object.freeze({ name: 'raycluster-rbac', namespace: 'ray-demo' });

/** Fixed ports of a head besides gcs/client/dashboard: [flag, port]. Workers get block+100..block+199. */
function extraPorts(h) {
  return {
    'node-manager-port': h.block,
    'object-manager-port': h.block + 1,
    'metrics-export-port': h.block + 2,
    'dashboard-agent-listen-port': h.block + 3,
    'dashboard-agent-grpc-port': h.block + 4,
    'runtime-env-agent-port': h.block + 5,
    'min-worker-port': h.block + 100,
    'max-worker-port': h.block + 199,
  };
}

/**
 * Ports Ray takes from the environment, not from flags. Their defaults (44227, 44217) are the same for every Ray
 * instance, so without these the second and third head lose them (Ray logs the error and goes on).
 */
function envPorts(h) {
  return {
    DASHBOARD_METRIC_PORT: h.block + 6,
    AUTOSCALER_METRIC_PORT: h.block + 7,
  };
}

/** Every TCP port a head listens on with a fixed number (the worker range excluded). */
export function headPorts(name) {
  const h = HEADS[name];
  const x = extraPorts(h);
  return [
    ...Object.values(envPorts(h)),
    h.gcs,
    h.client,
    h.dashboard,
    x['node-manager-port'],
    x['object-manager-port'],
    x['metrics-export-port'],
    x['dashboard-agent-listen-port'],
    x['dashboard-agent-grpc-port'],
    x['runtime-env-agent-port'],
  ];
}

const noop = () => {};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const sha = (s) => createHash('sha256').update(s).digest('hex').slice(0, 16);

// ---------------------------------------------------------------------------------------------------------------
// venv

/**
 * Creates $RC_CACHE/ray-venv with ray[default]==RAY_VERSION unless it is already there (stamp file). Idempotent;
 * a lock file serialises concurrent callers. Returns { python, ray, version }.
 */
export async function ensureRayVenv({ log = noop } = {}) {
  const stamp = join(rayVenvDir, '.ray-connect-requirement');
  const done = () => existsSync(rayBin) && readText(stamp)?.trim() === RAY_REQUIREMENT;
  if (done()) return { python: rayPython, ray: rayBin, version: RAY_VERSION };
  mkdirSync(cacheDir, { recursive: true });
  const release = await lock(join(cacheDir, '.ray-venv.lock'), log);
  try {
    if (done()) return { python: rayPython, ray: rayBin, version: RAY_VERSION };
    if (!existsSync(rayPython)) {
      const py = findPython();
      log(`creating the Ray venv at ${rayVenvDir} (${py})`);
      await runChecked(py, ['-m', 'venv', rayVenvDir], { log });
    }
    log(`installing ${RAY_REQUIREMENT} into ${rayVenvDir} (first time: a few minutes)`);
    await runChecked(
      rayPython,
      [
        '-m',
        'pip',
        'install',
        '--disable-pip-version-check',
        '--no-input',
        '--progress-bar',
        'off',
        RAY_REQUIREMENT,
      ],
      { log },
    );
    const v = spawnSync(rayBin, ['--version'], { encoding: 'utf8' });
    if (v.status !== 0 || !v.stdout.includes(RAY_VERSION)) {
      throw new Error(`ray --version in ${rayVenvDir} did not report ${RAY_VERSION}: ${v.stdout}${v.stderr}`);
    }
    writeFileSync(stamp, RAY_REQUIREMENT + '\n');
    log(`Ray ${RAY_VERSION} ready in ${rayVenvDir}`);
    return { python: rayPython, ray: rayBin, version: RAY_VERSION };
  } finally {
    release();
  }
}

function findPython() {
  const candidates = [process.env.RC_PYTHON, 'python3.11', 'python3.12', 'python3.10', 'python3'].filter(
    Boolean,
  );
  for (const c of candidates) {
    const r = spawnSync(c, ['-c', 'import sys, venv; print("%d.%d" % sys.version_info[:2])'], {
      encoding: 'utf8',
    });
    if (r.status !== 0) continue;
    const [maj, min] = r.stdout.trim().split('.').map(Number);
    if (maj === 3 && min >= 10 && min <= 13) return c;
  }
  throw new Error('no Python 3.10-3.13 with venv found for Ray (set RC_PYTHON to one)');
}

async function lock(file, log) {
  for (let i = 0; ; i++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(file, { force: true });
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      const owner = Number(readText(file));
      if (!owner || !alive(owner)) {
        rmSync(file, { force: true });
        continue;
      }
      if (i === 0) log(`waiting for another Ray venv install (pid ${owner})`);
      await sleep(1000);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// heads

/**
 * Starts the Ray heads (idempotent: a head that is up with the same configuration is left alone; a head whose
 * configuration changed, e.g. a new token, is restarted). Resolves when each answers /api/authentication_mode.
 *
 * @param {object} o
 * @param {string} o.stateDir      sandbox state dir; heads live in <stateDir>/ray (keep it short: socket paths)
 * @param {string} [o.token]       static token of the token head (env only, never argv/logs); required for it
 * @param {string} [o.apiServer]   e.g. https://127.0.0.1:6443; required for the rbac head
 * @param {string} [o.caFile]      CA bundle of the apiserver (becomes ca.crt)
 * @param {string} [o.saTokenFile] token of a ServiceAccount allowed to create tokenreviews + subjectaccessreviews
 *                                 and ray:write on raycluster-rbac (becomes the in-pod SA token)
 * @param {string[]} [o.heads]     which heads (default: all three; rbac skipped with a warning without apiServer)
 * @param {number} [o.attempts]    starts per head before giving up (default RC_RAY_START_ATTEMPTS or 3); a failed
 *                                 start is stopped (all its processes) before the next one
 * @param {Record<number, Record<string, string>>} [o.attemptEnv]  tests only: extra env for a given attempt
 *                                 (e.g. {1: {RAY_DASHBOARD_SUBPROCESS_MODULE_WAIT_READY_TIMEOUT: '0.01'}} makes
 *                                 the first start fail the way a loaded machine does)
 * @param {(m: string) => void} [o.log]
 * @returns {Promise<Record<string, {name, mode, dashboard, gcs, client, url, pids}>>} the heads; when one is still
 *   not up after the last attempt it rejects with an Error whose `heads` are the ones that are up and `failed` the
 *   names of the others (each other head is still started)
 */
export async function startRayHeads({
  stateDir,
  token,
  apiServer,
  caFile,
  saTokenFile,
  heads,
  attempts = Number(process.env.RC_RAY_START_ATTEMPTS) || 3,
  attemptEnv = {},
  log = noop,
}) {
  if (!stateDir) throw new Error('startRayHeads: stateDir is required');
  await ensureRayVenv({ log });
  const wanted = heads ?? HEAD_NAMES.filter((n) => n !== 'rbac' || apiServer);
  if (!heads && !apiServer) log('Ray head "rbac" not started: no apiServer given');
  const dir = rayDir(stateDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const result = {};
  const failed = {};
  for (const name of wanted) {
    const h = HEADS[name];
    if (!h) throw new Error(`unknown Ray head "${name}" (known: ${HEAD_NAMES.join(', ')})`);
    const cfg = headConfig(name, { token, apiServer, caFile, saTokenFile });
    const pids = headPids(stateDir, name);
    if (
      pids.length &&
      readState(stateDir)[name]?.config === cfg.hash &&
      (await probeMode(h.dashboard)) === h.mode
    ) {
      log(`Ray head "${name}" already running (dashboard 127.0.0.1:${h.dashboard})`);
    } else {
      if (pids.length) {
        log(`restarting Ray head "${name}" (configuration changed or not answering)`);
        await killHead(stateDir, name);
      }
      for (let attempt = 1; ; attempt++) {
        try {
          const extra = attemptEnv[attempt] ?? faultFromEnv(name, attempt);
          await startHead(stateDir, name, extra ? { ...cfg, env: { ...cfg.env, ...extra } } : cfg, log);
          break;
        } catch (e) {
          const why = e.message.split('\n')[0];
          if (e.permanent || attempt >= attempts) {
            log(`Ray head "${name}" failed to start (attempt ${attempt}/${attempts}), giving up: ${why}`);
            failed[name] = e;
            break;
          }
          log(`Ray head "${name}" failed to start (attempt ${attempt}/${attempts}): ${why}; stopped, starting again`);
        }
      }
    }
    if (!failed[name]) result[name] = describe(name, headPids(stateDir, name));
  }
  if (Object.keys(failed).length) {
    const names = Object.keys(failed);
    const err = new Error(
      `Ray head${names.length > 1 ? 's' : ''} ${names.map((n) => `"${n}"`).join(', ')} not up: ` +
        names.map((n) => `${n}: ${failed[n].message}`).join('\n'),
    );
    err.heads = result;
    err.failed = names;
    throw err;
  }
  return result;
}

/** Stops the heads this module started under stateDir (all, or `heads`). Idempotent. */
export async function stopRayHeads({ stateDir, heads, log = noop }) {
  if (!stateDir) throw new Error('stopRayHeads: stateDir is required');
  for (const name of heads ?? HEAD_NAMES) {
    const n = await killHead(stateDir, name);
    if (n) log(`stopped Ray head "${name}" (${n} processes)`);
    const state = readState(stateDir);
    delete state[name];
    if (existsSync(rayDir(stateDir))) writeState(stateDir, state);
  }
  unmountLeftovers(stateDir);
}

/** What is running: per head { running, ready, mode, pids, rssMB, pssMB, sid, startedAt, ports }. */
export async function rayHeadsStatus({ stateDir }) {
  const out = {};
  const state = readState(stateDir);
  for (const name of HEAD_NAMES) {
    const h = HEADS[name];
    const pids = headPids(stateDir, name);
    const mode = pids.length ? await probeMode(h.dashboard) : undefined;
    out[name] = {
      ...describe(name, pids),
      // the session of this start: a head restarted since gets a new one
      sid: pids.length ? state[name]?.sid : undefined,
      startedAt: pids.length ? state[name]?.startedAt : undefined,
      running: pids.length > 0,
      ready: mode === h.mode,
      mode,
      rssMB: Math.round(pids.reduce((s, p) => s + memKB(p, 'Rss'), 0) / 1024),
      // proportional set size: shared pages (forked dashboard modules) counted once across processes
      pssMB: Math.round(pids.reduce((s, p) => s + memKB(p, 'Pss'), 0) / 1024),
    };
  }
  return out;
}

function describe(name, pids) {
  const h = HEADS[name];
  return {
    name,
    mode: h.mode,
    dashboard: h.dashboard,
    gcs: h.gcs,
    client: h.client,
    url: `http://127.0.0.1:${h.dashboard}`,
    // the names lib/objects.mjs (kwok PortForward targets) reads
    dashboardPort: h.dashboard,
    gcsPort: h.gcs,
    clientPort: h.client,
    pids,
  };
}

const rayDir = (stateDir) => join(resolve(stateDir), 'ray');
const marker = (stateDir, name) => `${name}@${resolve(stateDir)}`;

function readState(stateDir) {
  try {
    return JSON.parse(readFileSync(join(rayDir(stateDir), 'heads.json'), 'utf8'));
  } catch {
    return {};
  }
}

function writeState(stateDir, state) {
  writeFileSync(join(rayDir(stateDir), 'heads.json'), JSON.stringify(state, null, 2) + '\n');
}

/** The env and a hash of the configuration (the hash never contains a secret in the clear). */
function headConfig(name, { token, apiServer, caFile, saTokenFile }) {
  const env = {
    RAY_USAGE_STATS_ENABLED: '0',
    // Ray turns --node-ip-address=127.0.0.1 into the machine's outward address (and then binds the client server,
    // agents and metrics to it, and GCS/raylet to all interfaces) unless it thinks multi-node clusters are off:
    // with this it keeps 127.0.0.1 and binds loopback only. See README "What listens where".
    RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER: '0',
    // 2 cores under load: dashboard modules (MetricsHead, ...) need more than the default 30 s to report ready.
    RAY_DASHBOARD_SUBPROCESS_MODULE_WAIT_READY_TIMEOUT: '90',
    ...Object.fromEntries(Object.entries(envPorts(HEADS[name])).map(([k, v]) => [k, String(v)])),
  };
  // The env above is not in the hash on purpose: a changed env does not restart running heads (the sandbox is
  // shared while it runs); `down` + `up` applies it.
  let hashInput = name;
  if (name === 'token') {
    if (!token) throw new Error('startRayHeads: the token head needs `token`');
    env.RAY_AUTH_MODE = 'token';
    env.RAY_AUTH_TOKEN = token;
    hashInput += sha(token);
  } else if (name === 'noauth') {
    env.RAY_AUTH_MODE = 'disabled';
  } else if (name === 'rbac') {
    if (!apiServer || !caFile || !saTokenFile) {
      throw new Error('startRayHeads: the rbac head needs apiServer, caFile and saTokenFile');
    }
    const u = new URL(apiServer);
    Object.assign(env, {
      RAY_AUTH_MODE: 'token',
      RAY_ENABLE_K8S_TOKEN_AUTH: 'true',
      KUBERNETES_SERVICE_HOST: u.hostname,
      KUBERNETES_SERVICE_PORT: u.port || '443',
      RAY_CLUSTER_NAME: RBAC_CLUSTER.name,
      RAY_CLUSTER_NAMESPACE: RBAC_CLUSTER.namespace,
    });
    // A re-issued token of the same ServiceAccount (every `up` issues one) does not restart a running head; a
    // recreated ServiceAccount (new uid: its old tokens are dead) does.
    hashInput += apiServer + sha(readFileSync(caFile)) + saIdentity(readFileSync(saTokenFile, 'utf8').trim());
  }
  return { env, hash: sha(hashInput), caFile, saTokenFile };
}

/** The ServiceAccount uid from a bound SA token (JWT payload, not verified: only to notice a new identity). */
function saIdentity(token) {
  try {
    const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
    const sa = claims['kubernetes.io']?.serviceaccount;
    if (sa?.uid) return `${claims.iss}|${sa.uid}`;
  } catch {
    /* not a JWT */
  }
  return sha(token);
}

async function startHead(stateDir, name, cfg, log) {
  const h = HEADS[name];
  const dir = rayDir(stateDir);
  const tempDir = rayTempDir(stateDir, name);
  for (const port of headPorts(name)) {
    if (!(await portFree(port))) {
      throw permanent(
        `port 127.0.0.1:${port} is in use: Ray head "${name}" needs it (see HEADS in test/sandbox/lib/ray.mjs)`,
      );
    }
  }
  rmSync(join(dir, name), { recursive: true, force: true });
  mkdirSync(join(dir, name), { recursive: true });

  const args = [
    'start',
    '--head',
    '--node-ip-address=127.0.0.1',
    `--port=${h.gcs}`,
    `--ray-client-server-port=${h.client}`,
    '--dashboard-host=127.0.0.1',
    `--dashboard-port=${h.dashboard}`,
    '--num-cpus=1',
    '--object-store-memory=100000000',
    '--disable-usage-stats',
    `--temp-dir=${tempDir}`,
    ...Object.entries(extraPorts(h)).map(([k, v]) => `--${k}=${v}`),
  ];
  const env = { ...cleanEnv(), ...cfg.env, RC_RAY_HEAD: marker(stateDir, name) };
  let cmd = rayBin;
  let argv = args;
  if (name === 'rbac') {
    // Private mount namespace: overlay /run (= /var/run) with a tmpfs upper layer holding the SA files.
    const mnt = join(dir, 'rbac-ns');
    mkdirSync(mnt, { recursive: true });
    Object.assign(env, {
      RC_NS_MNT: mnt,
      RC_NS_CA: resolve(cfg.caFile),
      RC_NS_TOKEN: resolve(cfg.saTokenFile),
    });
    const script = [
      'set -e',
      'mount -n -t tmpfs -o size=1m,mode=0700 rc-ray-secrets "$RC_NS_MNT"',
      'mkdir "$RC_NS_MNT/u" "$RC_NS_MNT/w"',
      'mount -n -t overlay rc-ray-run -o "lowerdir=/run,upperdir=$RC_NS_MNT/u,workdir=$RC_NS_MNT/w" /run',
      'k=/var/run/secrets/kubernetes.io/serviceaccount; r=/var/run/secrets/ray.io/serviceaccount',
      'mkdir -p "$k" "$r"',
      'cp "$RC_NS_CA" "$k/ca.crt"; cp "$RC_NS_TOKEN" "$k/token"; cp "$RC_NS_TOKEN" "$r/token"',
      `printf %s ${RBAC_CLUSTER.namespace} > "$k/namespace"`,
      'unset RC_NS_MNT RC_NS_CA RC_NS_TOKEN',
      'exec "$@"',
    ].join('\n');
    cmd = 'unshare';
    argv = [
      '--mount',
      '--propagation',
      'private',
      '--',
      '/bin/sh',
      '-c',
      script,
      'rc-ray-ns',
      rayBin,
      ...args,
    ];
  }
  log(`starting Ray head "${name}" (dashboard 127.0.0.1:${h.dashboard}, gcs ${h.gcs}, client ${h.client})`);
  const logFile = join(dir, `${name}.start.log`);
  const fd = openSync(logFile, 'w');
  // detached: the child leads a new session that every Ray process of this head inherits (see headPids).
  // cwd: the head's own dir, not the checkout that ran `up` (jobs run in the raylet's cwd; a deleted checkout made
  // every job fail with "getcwd() failed").
  const child = spawn(cmd, argv, { env, cwd: dir, stdio: ['ignore', fd, fd], detached: true });
  closeSync(fd);
  const state = readState(stateDir);
  state[name] = { sid: child.pid, config: cfg.hash, startedAt: new Date().toISOString() };
  writeState(stateDir, state);
  const exit = await new Promise((res) => {
    child.on('error', (e) => res({ code: 127, error: e }));
    child.on('exit', (code, signal) => res({ code: code ?? 128, signal }));
  });
  if (exit.code !== 0) {
    await killHead(stateDir, name);
    throw new Error(
      `ray start for head "${name}" failed (exit ${exit.code}${exit.error ? ': ' + exit.error.message : ''}); ` +
        `log ${logFile}:\n${tail(logFile, cfg.env.RAY_AUTH_TOKEN)}`,
    );
  }
  const deadline = Date.now() + 120_000;
  const logs = join(dir, name, 'session_latest', 'logs');
  for (let gone = 0; ; ) {
    const mode = await probeMode(h.dashboard);
    if (mode === h.mode) break;
    // `ray start` exits 0 even when the dashboard fails while starting (e.g. "Module MetricsHead failed to start";
    // the process may even stay): notice it instead of waiting for the deadline
    const dashLog = readText(join(logs, 'dashboard.log')) ?? '';
    const failedLine = /The dashboard on node .* failed with the following error/.test(dashLog);
    gone = mode === undefined && (failedLine || !dashboardAlive(stateDir, name)) ? gone + 1 : 0;
    if (gone >= 4) {
      await killHead(stateDir, name);
      const reason = /Module \w+ failed to start[^\n]*/.exec(dashLog);
      throw new Error(
        `Ray head "${name}": the dashboard failed while starting${reason ? ` (${reason[0]})` : ''}; see ${logs}\n` +
          tail(join(logs, 'dashboard.log'), cfg.env.RAY_AUTH_TOKEN),
      );
    }
    if (mode && mode !== h.mode) {
      await killHead(stateDir, name);
      throw permanent(`Ray head "${name}" answers authentication_mode=${mode}, expected ${h.mode}`);
    }
    if (Date.now() > deadline) {
      await killHead(stateDir, name);
      throw new Error(
        `Ray head "${name}" did not answer /api/authentication_mode on :${h.dashboard}; see ${logs}\n` +
          tail(join(logs, 'dashboard.log'), cfg.env.RAY_AUTH_TOKEN),
      );
    }
    await sleep(500);
  }
  log(
    `Ray head "${name}" ready at http://127.0.0.1:${h.dashboard} (auth ${h.mode}${name === 'rbac' ? ', Kubernetes RBAC' : ''})`,
  );
}

/**
 * RC_RAY_START_FAULT=<head>:<n> (tests and the lead's checks of `sandbox up`): the first n starts of that head fail
 * the way a loaded machine makes them fail (a dashboard module readiness timeout no start meets).
 */
function faultFromEnv(name, attempt) {
  const m = /^(\w+):(\d+)$/.exec(process.env.RC_RAY_START_FAULT ?? '');
  if (!m || m[1] !== name || attempt > Number(m[2])) return undefined;
  return { RAY_DASHBOARD_SUBPROCESS_MODULE_WAIT_READY_TIMEOUT: '0.01' };
}

function permanent(message) {
  return Object.assign(new Error(message), { permanent: true });
}

/** True while the head's dashboard process (ray/dashboard/dashboard.py) runs. */
function dashboardAlive(stateDir, name) {
  return headPids(stateDir, name).some((p) => (readText(`/proc/${p}/cmdline`) ?? '').includes('dashboard/dashboard.py'));
}

// AF_UNIX socket paths are limited to 107 bytes, and Ray puts sockets at
//   <temp-dir>/session_YYYY-MM-DD_HH-MM-SS_ffffff_<pid up to 7>/sockets/dash_PlatformEventsHead (+ margin)
const SOCKET_SUFFIX = 1 + 42 + '/sockets/'.length + 30;

/**
 * The --temp-dir of a head. The files live in <stateDir>/ray/<name>; when that path is too long for Ray's socket
 * paths (the default $RC_CACHE is), Ray is given the same directory through a short symlink
 * /tmp/rcray-<hash of stateDir> -> <stateDir>/ray (Ray does not resolve symlinks in socket paths).
 */
export function rayTempDir(stateDir, name) {
  const real = join(rayDir(stateDir), name);
  if (real.length + SOCKET_SUFFIX <= 107) return real;
  const link = join('/tmp', `rcray-${sha(resolve(stateDir)).slice(0, 6)}`);
  let current;
  try {
    current = readlinkSync(link);
  } catch (e) {
    if (e.code === 'EINVAL') throw new Error(`${link} exists and is not a symlink: remove it`);
    if (e.code !== 'ENOENT') throw e;
  }
  if (current !== rayDir(stateDir)) {
    if (current !== undefined) unlinkSync(link);
    symlinkSync(rayDir(stateDir), link);
  }
  const short = join(link, name);
  if (short.length + SOCKET_SUFFIX > 107) throw new Error(`Ray temp dir ${short} is too long for socket paths`);
  return short;
}

/** The parent env without anything that would steer Ray (addresses, tokens, auth, in-cluster Kubernetes). */
function cleanEnv() {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(RAY_|KUBERNETES_|RC_RAY_HEAD$)/.test(k)) continue;
    env[k] = v;
  }
  return env;
}

/** Resolves to "token" | "disabled" | other string, or undefined if nothing answers. */
export async function probeMode(port) {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/api/authentication_mode`, {
      signal: AbortSignal.timeout(3000),
    });
    if (!r.ok) return `http-${r.status}`;
    const j = await r.json();
    return j.authentication_mode;
  } catch {
    return undefined;
  }
}

function portFree(port) {
  return new Promise((res) => {
    const s = createServer();
    s.once('error', () => res(false));
    s.listen({ port, host: '127.0.0.1', exclusive: true }, () => s.close(() => res(true)));
  });
}

// ---------------------------------------------------------------------------------------------------------------
// processes

/**
 * Pids of the live processes of a head: those carrying its marker in their environment, plus members of the
 * sessions they (and the recorded `ray start` session) belong to whose command line is a Ray process title or
 * names our venv or temp dir (setproctitle overwrites the environ area of `ray::*` and `ray-dashboard-*`
 * processes, so their marker is no longer readable).
 */
export function headPids(stateDir, name) {
  const want = Buffer.from(`\0RC_RAY_HEAD=${marker(stateDir, name)}\0`);
  const tempDirs = [join(rayDir(stateDir), name), rayTempDir(stateDir, name)];
  const procs = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    const st = procStat(pid);
    if (!st || st.state === 'Z') continue;
    procs.push({ pid, ...st });
  }
  const sids = new Set();
  const recorded = readState(stateDir)[name]?.sid;
  if (recorded) sids.add(recorded);
  const pids = new Set();
  for (const p of procs) {
    let env;
    try {
      env = Buffer.concat([Buffer.from([0]), readFileSync(`/proc/${p.pid}/environ`), Buffer.from([0])]);
    } catch {
      continue;
    }
    if (env.includes(want)) {
      pids.add(p.pid);
      sids.add(p.sid);
    }
  }
  for (const p of procs) {
    if (pids.has(p.pid) || !sids.has(p.sid)) continue;
    const cmdline = readText(`/proc/${p.pid}/cmdline`) ?? '';
    if (/^ray(::|-dashboard-)/.test(cmdline) || [...tempDirs, rayVenvDir].some((d) => cmdline.includes(d))) {
      pids.add(p.pid);
    }
  }
  return [...pids].sort((a, b) => a - b);
}

function procStat(pid) {
  const stat = readText(`/proc/${pid}/stat`);
  if (!stat) return undefined;
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { state: f[0], pgid: Number(f[2]), sid: Number(f[3]) };
}

async function killHead(stateDir, name) {
  let pids = headPids(stateDir, name);
  const n = pids.length;
  if (!n) return 0;
  signalAll(pids, 'SIGTERM');
  for (let i = 0; i < 20 && pids.length; i++) {
    await sleep(250);
    pids = headPids(stateDir, name);
  }
  // Ray's agents can sit on SIGTERM for a long time: the rest get SIGKILL.
  for (let i = 0; i < 40 && pids.length; i++) {
    if (i % 8 === 0) signalAll(pids, 'SIGKILL');
    await sleep(250);
    pids = headPids(stateDir, name);
  }
  if (pids.length) throw new Error(`Ray head "${name}": processes ${pids.join(' ')} did not exit`);
  return n;
}

function signalAll(pids, sig) {
  for (const p of pids) {
    try {
      process.kill(p, sig);
    } catch {
      /* gone */
    }
  }
}

/** The rbac head's mount namespace dies with its processes; the host-side mountpoint dir is just a dir. */
function unmountLeftovers(stateDir) {
  const mnt = join(rayDir(stateDir), 'rbac-ns');
  if (existsSync(mnt)) rmSync(mnt, { recursive: true, force: true });
}

function memKB(pid, field) {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

function readText(file) {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function tail(file, secret) {
  let t = (readText(file) ?? '').split('\n').slice(-30).join('\n');
  if (secret) t = t.split(secret).join('[REDACTED]');
  return t;
}

function runChecked(cmd, args, { log }) {
  return new Promise((res, rej) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const keep = (d) => {
      out = (out + d).slice(-8000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', rej);
    child.on('exit', (code) => {
      if (code === 0) return res();
      log(out);
      rej(new Error(`${cmd} ${args.join(' ')} failed (exit ${code})`));
    });
  });
}

// ---------------------------------------------------------------------------------------------------------------
// CLI

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [cmd = 'status', stateDirArg] = process.argv.slice(2);
  const stateDir = stateDirArg ?? join(cacheDir, 'sandbox');
  const log = (m) => process.stderr.write(`[ray] ${m}\n`);
  const main = async () => {
    if (cmd === 'ensure') return ensureRayVenv({ log });
    if (cmd === 'stop') return stopRayHeads({ stateDir, log });
    if (cmd === 'status') return rayHeadsStatus({ stateDir });
    if (cmd === 'start') {
      // Standalone: token + noauth heads with a token kept in <stateDir>/ray/cli-token (0600).
      mkdirSync(rayDir(stateDir), { recursive: true, mode: 0o700 });
      const tf = join(rayDir(stateDir), 'cli-token');
      if (!existsSync(tf)) writeFileSync(tf, randomBytes(32).toString('hex') + '\n', { mode: 0o600 });
      return startRayHeads({
        stateDir,
        token: readFileSync(tf, 'utf8').trim(),
        heads: ['token', 'noauth'],
        log,
      });
    }
    throw new Error(`usage: ray.mjs ensure | start [stateDir] | stop [stateDir] | status [stateDir]`);
  };
  main().then(
    (r) => {
      if (r) process.stdout.write(JSON.stringify(r, null, 2) + '\n');
    },
    (e) => {
      process.stderr.write(`${e.message}\n`);
      process.exit(1);
    },
  );
}
