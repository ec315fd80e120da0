#!/usr/bin/env node
// The sandbox: real etcd, kube-apiserver (OIDC via structured authn, RBAC), kwok as kubelet, an OIDC provider, KubeRay
// objects and real Ray heads (lib/ray.mjs), all on 127.0.0.1 under $RC_CACHE/sandbox. See README.md.
//   node test/sandbox/sandbox.mjs up | down | status | env [--json]
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildEnv, headSaTokenFile, rayTokenFile, readState } from './lib/envinfo.mjs';
import { clearEtcdData, kubeconfigs, kubectl, startApiserver, startEtcd, startKwok } from './lib/kube.mjs';
import {
  applyBase,
  applyPortForwards,
  applyRayClusters,
  issueHeadToken,
  NAMESPACE,
  verifyForwards,
} from './lib/objects.mjs';
import { ensureOidcInstalled, ensureUsers, httpsGet, startOidc } from './lib/oidc.mjs';
import { ensurePki, pki } from './lib/pki.mjs';
import { podNetworkMode, removeKernelRules, startPodNetwork } from './lib/podnet.mjs';
import {
  bin,
  binDir,
  ensureDirs,
  isAlive,
  paths,
  portFree,
  run,
  runningPid,
  runStreaming,
  sandboxRoot,
  say,
  setQuiet,
  sleep,
  stopDaemon,
  whoListens,
  writePrivate,
} from './lib/util.mjs';

const DEFAULT_PORTS = { oidc: 5556, etcd: 2379, etcdPeer: 2380, apiserver: 6443, kwok: 10250 };
/** Which daemon owns which port (a port held by our own running daemon is fine). */
const PORT_OWNER = {
  oidc: 'oidc',
  etcd: 'etcd',
  etcdPeer: 'etcd',
  apiserver: 'kube-apiserver',
  kwok: 'kwok',
};
const DAEMONS = ['oidc', 'etcd', 'kube-apiserver', 'kwok', 'podnet'];
const envName = (k) => `RC_SANDBOX_PORT_${k.replace(/[A-Z]/g, (c) => '_' + c).toUpperCase()}`;

function ports() {
  const recorded = readState()?.ports ?? {};
  return Object.fromEntries(
    Object.entries(DEFAULT_PORTS).map(([k, v]) => {
      const fromEnv = Number(process.env[envName(k)]);
      // a running daemon keeps the port it was started with
      return [k, runningPid(PORT_OWNER[k]) && recorded[k] ? recorded[k] : fromEnv || v];
    }),
  );
}

async function checkPorts(p) {
  for (const [k, port] of Object.entries(p)) {
    if (runningPid(PORT_OWNER[k])) continue;
    if (!(await portFree(port))) {
      throw new Error(
        `port 127.0.0.1:${port} (${k}) is taken by ${whoListens(port)}, not by this sandbox. Stop it, or pick another port with ${envName(k)}=<port>.`,
      );
    }
  }
}

// ------------------------------------------------------------------ lock (one `up`/`down` at a time)
const lockFile = () => join(paths.run, 'sandbox.lock');
async function withLock(fn) {
  ensureDirs();
  for (let i = 0; ; i++) {
    try {
      const fd = openSync(lockFile(), 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      const owner = Number(readFileSync(lockFile(), 'utf8'));
      if (!owner || !isAlive(owner)) {
        rmSync(lockFile(), { force: true });
        continue;
      }
      if (i === 0) say(`waiting for another sandbox command (pid ${owner})`);
      await sleep(1000);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lockFile(), { force: true });
  }
}

// ------------------------------------------------------------------ ray heads (A2's lib/ray.mjs)
const rayModulePath = join(sandboxRoot, 'lib', 'ray.mjs');
async function rayModule() {
  if (!existsSync(rayModulePath)) return undefined;
  return import(pathToFileURL(rayModulePath).href);
}

// ------------------------------------------------------------------ up
async function up() {
  const t0 = Date.now();
  ensureDirs();
  const p = ports();
  await checkPorts(p);
  const needBuild = ['etcd', 'kwok', 'kube-apiserver', 'kubectl'].filter((b) => !existsSync(join(binDir, b)));
  if (needBuild.length) {
    if (run('go', ['version'], { allowFail: true }).code !== 0)
      throw new Error(
        `${needBuild.join(', ')} must be built from source and \`go\` (>= 1.24) is not on PATH`,
      );
    say(`building ${needBuild.join(', ')} from source (Go module proxy; cold: 15-25 min) -> ${binDir}`);
    await runStreaming('bash', [join(sandboxRoot, 'scripts', 'build-go.sh')]);
  }
  await ensureOidcInstalled();
  ensurePki();
  ensureUsers();
  if (!existsSync(rayTokenFile)) writePrivate(rayTokenFile, randomBytes(32).toString('hex'));
  const rayToken = readFileSync(rayTokenFile, 'utf8').trim();

  const state = {
    ...(readState() ?? {}),
    ports: p,
    startedAt: new Date().toISOString(),
    stateDir: paths.state,
  };
  const save = () => writeFileSync(paths.stateFile, JSON.stringify(state, null, 2) + '\n');

  const oidc = await startOidc(p.oidc);
  Object.assign(state, { issuer: oidc.issuer, tokenTtlSeconds: oidc.tokenTtlSeconds });
  const etcdUrl = await startEtcd(p);
  const apiServer = await startApiserver(p, etcdUrl, { issuer: oidc.issuer, clientId: 'kubernetes' });
  state.apiServer = apiServer;
  save();

  await applyBase();
  await startKwok(p);
  await startPodNetwork(apiServer);
  state.rayClusters = await applyRayClusters(rayToken);
  save();

  // Ray heads
  const ray = await rayModule();
  if (!ray) {
    state.rayHeads = {};
    state.rayHeadsError = `Ray heads not started: ${rayModulePath} does not exist yet`;
    say(`WARNING: ${state.rayHeadsError}`);
  } else {
    const describe = (h) => ({
      dashboardPort: h.dashboardPort ?? h.dashboard,
      clientPort: h.clientPort ?? h.client,
      gcsPort: h.gcsPort ?? h.gcs,
      mode: h.mode,
      url: h.url,
    });
    try {
      issueHeadToken(headSaTokenFile);
      const r = await ray.startRayHeads({
        stateDir: paths.state,
        token: rayToken,
        apiServer,
        caFile: pki.ca,
        saTokenFile: headSaTokenFile,
        log: (m) => say(`ray: ${m}`),
      });
      const heads = r?.heads ?? r ?? {};
      state.rayHeads = Object.fromEntries(Object.entries(heads).map(([k, h]) => [k, describe(h)]));
      delete state.rayHeadsError;
    } catch (e) {
      state.rayHeadsError = `Ray heads failed: ${e.message}`;
      say(`ERROR: ${state.rayHeadsError}`);
      // keep the heads that did come up (the others were stopped after their last attempt)
      const st = await ray.rayHeadsStatus({ stateDir: paths.state }).catch(() => ({}));
      state.rayHeads = Object.fromEntries(
        Object.entries(st)
          .filter(([, h]) => h.running && h.ready)
          .map(([k, h]) => [k, describe(h)]),
      );
    }
    const expected = ray.HEAD_NAMES ?? Object.keys(state.rayHeads);
    state.rayHeadsMissing = expected.filter((n) => !state.rayHeads[n]);
    if (!state.rayHeadsMissing.length) delete state.rayHeadsMissing;
  }
  const n = applyPortForwards(state.rayHeads);
  say(`kwok: ${n} PortForward(s) from head pods to the local Ray heads`);
  save();
  if (n) {
    await verifyForwards(state.rayHeads, { kubectlBin: bin('kubectl'), kubeconfig: kubeconfigs.admin });
    say('check: kubectl port-forward to every head pod reaches its Ray head');
  }

  await selfCheck(state);
  const secs = ((Date.now() - t0) / 1000).toFixed(0);
  if (state.rayHeadsError || state.rayHeadsMissing) {
    // the Kubernetes side is usable, but tests that need a missing head would fail in confusing ways: say it and fail
    const missing = state.rayHeadsMissing?.join(', ') || 'all';
    say(
      `sandbox is PARTLY up in ${secs}s: Ray head(s) NOT up: ${missing} (see above; \`pnpm sandbox status\`). ` +
        'Run `pnpm sandbox up` again to retry them.',
    );
    return 1;
  }
  say(`sandbox is up in ${secs}s: \`pnpm sandbox env\` tells how to use it`);
  return 0;
}

/** The chain that matters most: an OIDC id_token accepted by the apiserver (its JWT authenticator loads asynchronously). */
async function selfCheck() {
  const { oidcLogin, kubectl: kc } = await import('./client.mjs');
  const until = Date.now() + 60_000;
  for (;;) {
    try {
      const { idToken } = await oidcLogin('alice');
      const r = await kc(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}'], {
        token: idToken,
      });
      if (r.code === 0 && r.stdout.trim() === 'oidc:alice') {
        say(
          'check: alice signs in through the device flow and the apiserver accepts her id_token as oidc:alice',
        );
        return;
      }
      throw new Error(r.stderr.trim() || r.stdout);
    } catch (e) {
      if (Date.now() > until)
        throw new Error(`self-check failed: OIDC id_token not accepted by the apiserver: ${e.message}`);
      await sleep(1000);
    }
  }
}

// ------------------------------------------------------------------ down
async function down() {
  ensureDirs();
  const ray = await rayModule();
  if (ray) {
    try {
      await ray.stopRayHeads({ stateDir: paths.state, log: (m) => say(`ray: ${m}`) });
    } catch (e) {
      say(`ray: ${e.message}`);
    }
  }
  for (const d of ['podnet', 'kwok', 'kube-apiserver', 'etcd', 'oidc']) {
    if (await stopDaemon(d)) say(`stopped ${d}`);
  }
  removeKernelRules(); // podnet removes its DNAT table when it stops; this covers one that was killed
  clearEtcdData(); // cluster state is per run; caches, PKI, users and the Ray token stay
  rmSync(headSaTokenFile, { force: true });
  const s = readState();
  if (s)
    writeFileSync(
      paths.stateFile,
      JSON.stringify({ ...s, stoppedAt: new Date().toISOString(), rayHeads: {} }, null, 2) + '\n',
    );
  say('sandbox is down');
  return 0;
}

// ------------------------------------------------------------------ status
async function status() {
  const s = readState();
  const p = s?.ports ?? DEFAULT_PORTS;
  const lines = [];
  const probe = async (url) => {
    try {
      return (await httpsGet(url)).status;
    } catch {
      return 'no answer';
    }
  };
  let up = true;
  for (const d of DAEMONS) {
    const pid = runningPid(d);
    let detail = '';
    if (pid && d === 'oidc')
      detail = `https://127.0.0.1:${p.oidc} discovery ${await probe(`https://127.0.0.1:${p.oidc}/.well-known/openid-configuration`)}`;
    if (pid && d === 'kube-apiserver')
      detail = `https://127.0.0.1:${p.apiserver} readyz ${await probe(`https://127.0.0.1:${p.apiserver}/readyz`)}`;
    if (pid && d === 'etcd') detail = `http://127.0.0.1:${p.etcd}`;
    if (pid && d === 'kwok') detail = `kubelet https://127.0.0.1:${p.kwok}`;
    if (pid && d === 'podnet')
      detail = `pod IPs 127.0.100.0/24 reachable for pods labelled pod-network=reachable (${podNetworkMode()})`;
    if (!pid) up = false;
    lines.push(`${d.padEnd(15)} ${pid ? `running  pid ${pid}  ${detail}` : 'stopped'}`);
  }
  if (runningPid('kube-apiserver')) {
    const r = kubectl(
      [
        'get',
        'rayclusters.ray.io',
        '-n',
        NAMESPACE,
        '-o',
        'jsonpath={range .items[*]}{.metadata.name}={.status.state} {end}',
      ],
      { allowFail: true },
    );
    lines.push(
      `${'rayclusters'.padEnd(15)} ${r.code === 0 ? r.stdout.trim() || 'none' : 'unknown: ' + r.stderr.trim()}`,
    );
  }
  const ray = await rayModule();
  if (!ray) {
    lines.push(`${'ray heads'.padEnd(15)} lib/ray.mjs missing`);
    up = false;
  } else {
    const st = await ray.rayHeadsStatus({ stateDir: paths.state });
    for (const [name, h] of Object.entries(st)) {
      if (!h.running || !h.ready) up = false;
      lines.push(
        `${`ray head ${name}`.padEnd(15)} ${h.running ? `running  ${h.ready ? 'ready' : 'NOT ready'}  auth ${h.mode ?? '?'}  dashboard ${h.url}  ${h.rssMB} MB` : 'stopped'}`,
      );
    }
    const ok = Object.keys(st).filter((n) => st[n].running && st[n].ready);
    const notOk = Object.keys(st).filter((n) => !ok.includes(n));
    lines.push(
      `${'ray heads'.padEnd(15)} ${ok.length}/${Object.keys(st).length} up${ok.length ? ` (${ok.join(', ')})` : ''}${notOk.length ? `; NOT up: ${notOk.join(', ')}` : ''}`,
    );
  }
  process.stdout.write(lines.join('\n') + '\n');
  return up ? 0 : 1;
}

// ------------------------------------------------------------------ env
function envText(e) {
  const kc = e.kubectl;
  const c = (k) => e.rayClusters[k];
  const heads = Object.entries(e.rayHeads ?? {}).map(
    ([k, h]) =>
      `  ${k.padEnd(7)} dashboard http://127.0.0.1:${h.dashboardPort}  client ${h.clientPort}  gcs ${h.gcsPort}`,
  );
  return `Ray Connect sandbox (${e.dir})
API server     ${e.apiServer}   CA ${e.caFile}
Admin          export KUBECONFIG=${e.adminKubeconfig}     (system:masters; kubectl: ${kc})
OIDC issuer    ${e.oidc.issuer}   client_id ${e.oidc.clientId} (public)   token TTL ${e.oidc.tokenTtlSeconds}s (RC_SANDBOX_TOKEN_TTL)
               device flow: ${e.oidc.issuer}/device   OpenShift-style discovery: ${e.oidc.openshiftDiscovery}
Users (OIDC)   alice / ${e.users.alice.password}   -> oidc:alice, groups oidc:ray-users (get/list RayClusters, Secrets, port-forward, ray:write on ${c('rbac')})
               bob   / ${e.users.bob.password}   -> oidc:bob, no groups (list RayClusters only)
Static tokens  ${Object.values(e.staticUsers)
    .map((u) => `${u.username} (${u.tokenFile})`)
    .join(', ')}
ServiceAccount ${e.serviceAccounts.rayUser.namespace}/${e.serviceAccounts.rayUser.name} (same rights as alice)
Namespace      ${e.namespace}
RayClusters    ${Object.entries(e.rayClusters)
    .map(([k, n]) => `${n} (${k})`)
    .join(', ')}
Ray token      ${e.rayTokenFile} (Secrets of the token/secretName/legacy clusters)
Ray heads${heads.length ? '\n' + heads.join('\n') : `      none${e.rayHeadsError ? ': ' + e.rayHeadsError : ''}`}

Get tokens:
  # alice's id_token through a real device flow (prints JSON with idToken, refreshToken, accessToken)
  node --input-type=module -e "import {oidcLogin} from '${join(sandboxRoot, 'client.mjs')}'; console.log(JSON.stringify(await oidcLogin('alice')))"
  # a ServiceAccount token
  ${kc} --kubeconfig ${e.adminKubeconfig} create token ray-user -n ${e.namespace}
  # sign in by hand: open ${e.oidc.issuer}/device in a browser and enter the code your client shows
Try:
  T=$(node --input-type=module -e "import {oidcLogin} from '${join(sandboxRoot, 'client.mjs')}'; console.log((await oidcLogin('alice')).idToken)")
  ${kc} --server ${e.apiServer} --certificate-authority ${e.caFile} --token "$T" auth can-i ray:write rayclusters/${c('rbac')} -n ${e.namespace}
  ${kc} --kubeconfig ${e.adminKubeconfig} -n ${e.namespace} port-forward pod/${e.rayClusterDetails?.token?.headPod ?? '<head pod>'} 18888:8265
`;
}

async function env(json) {
  const e = buildEnv();
  process.stdout.write(json ? JSON.stringify(e, null, 2) + '\n' : envText(e));
  return 0;
}

// ------------------------------------------------------------------ main
const [cmd, ...rest] = process.argv.slice(2);
const commands = {
  up: () => withLock(up),
  down: () => withLock(down),
  status,
  env: () => {
    setQuiet(true);
    return env(rest.includes('--json'));
  },
};
if (!commands[cmd]) {
  process.stderr.write('usage: node test/sandbox/sandbox.mjs up | down | status | env [--json]\n');
  process.exit(2);
}
try {
  process.exitCode = await commands[cmd]();
} catch (e) {
  process.stderr.write(`[sandbox] ERROR: ${e.message}\n`);
  process.exitCode = 1;
}
