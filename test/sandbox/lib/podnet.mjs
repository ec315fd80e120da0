// A pod network on loopback: kwok gives pods IPs in 127.0.100.0/24 (node kwok-node's spec.podCIDR) and
// 127.0.101.0/24 (kwok --cidr, other nodes), addresses every process on this machine can reach (Linux routes all
// of 127.0.0.0/8 to lo). For pods labelled `sandbox.ray-connect.dev/pod-network=reachable`, a connection to
// <pod IP>:<pod port> reaches the target of the pod's kwok PortForward (the real Ray head on 127.0.0.1), as it would
// through a pod network:
// - with nftables (`nft`, as root): kernel DNAT rules in the table `ray_connect_podnet` (output hook), the way
//   kube-proxy makes Service IPs reach pods: no process on the data path, so a direct connection to a pod IP costs
//   what a loopback connection costs. The table is replaced whole on each change and deleted when podnet stops.
// - otherwise: a relay in this process listens on <pod IP>:<pod port> and pipes each connection (a userland hop a
//   real pod network does not have: `sandbox status` says which one runs).
// Unlabelled pods have IPs but nothing listens there (connect: refused at once), like a pod behind a NetworkPolicy
// that rejects: the product's direct path then falls back to the port-forward.
//
//   node test/sandbox/lib/podnet.mjs run     (started by `sandbox up` as the daemon "podnet")
import { spawnSync } from 'node:child_process';
import { request } from 'node:https';
import { connect, createServer } from 'node:net';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { pki } from './pki.mjs';
import { runningPid, say, startDaemon, stopDaemon } from './util.mjs';

export const NODE_POD_CIDR = '127.0.100.0/24';
export const DEFAULT_POD_CIDR = '127.0.101.1/24';
export const POD_NETWORK_LABEL = 'sandbox.ray-connect.dev/pod-network';
const POLL_MS = 1000;

/** nftables for the kernel path: installed with apt when missing and we are root (Debian: `nftables`). */
function ensureNft() {
  if (spawnSync('nft', ['--version']).status === 0) return;
  if (process.getuid?.() !== 0 || spawnSync('apt-get', ['--version']).status !== 0) return;
  say('podnet: installing nftables (apt-get) for a kernel pod network');
  const apt = (args) =>
    spawnSync('apt-get', args, { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }).status;
  if (apt(['install', '-y', '-qq', 'nftables']) !== 0) {
    apt(['update', '-qq']);
    apt(['install', '-y', '-qq', 'nftables']);
  }
}

/** Which data path the pod network has now: 'kernel DNAT' or 'userland relay'. */
export const podNetworkMode = () =>
  spawnSync('nft', ['list', 'table', 'ip', 'ray_connect_podnet'], { stdio: 'ignore' }).status === 0
    ? 'kernel DNAT, nftables'
    : 'userland relay';

export async function startPodNetwork(apiServer) {
  ensureNft();
  if (runningPid('podnet')) {
    say('podnet: already running (relays for pods labelled pod-network=reachable)');
    return;
  }
  say(`podnet: <pod IP>:<port> -> kwok PortForward targets for pods labelled ${POD_NETWORK_LABEL}=reachable`);
  startDaemon('podnet', process.execPath, [fileURLToPath(import.meta.url), 'run', apiServer]);
}

export const stopPodNetwork = () => stopDaemon('podnet');

let tls;
function getJson(apiServer, path) {
  tls ??= { cert: readFileSync(pki.admin.cert), key: readFileSync(pki.admin.key), ca: readFileSync(pki.ca) };
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, apiServer),
      { ...tls, timeout: 10_000 },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (body += c));
        res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(body)) : reject(new Error(`${path}: HTTP ${res.statusCode}`))));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${path}: timeout`)));
    req.on('error', reject);
    req.end();
  });
}

/** `${ip}:${port}` -> `${address}:${port}` for every labelled, running pod with a PortForward of its name. */
async function desired(apiServer) {
  const pods = await getJson(apiServer, `/api/v1/pods?labelSelector=${encodeURIComponent(`${POD_NETWORK_LABEL}=reachable`)}`);
  const want = new Map();
  const live = pods.items.filter((p) => p.status?.phase === 'Running' && p.status?.podIP && !p.metadata.deletionTimestamp);
  if (!live.length) return want;
  const fwds = await getJson(apiServer, '/apis/kwok.x-k8s.io/v1alpha1/portforwards');
  for (const p of live) {
    const f = fwds.items.find((x) => x.metadata.name === p.metadata.name && x.metadata.namespace === p.metadata.namespace);
    for (const rule of f?.spec?.forwards ?? [])
      for (const port of rule.ports ?? []) want.set(`${p.status.podIP}:${port}`, `${rule.target?.address ?? '127.0.0.1'}:${rule.target?.port ?? port}`);
  }
  return want;
}

function relay(listenKey, target) {
  const [host, port] = listenKey.split(/:(?=\d+$)/);
  const [thost, tport] = target.split(/:(?=\d+$)/);
  const sockets = new Set();
  const server = createServer({ noDelay: true }, (c) => {
    const u = connect({ host: thost, port: Number(tport), noDelay: true });
    sockets.add(c).add(u);
    const done = () => {
      c.destroy();
      u.destroy();
      sockets.delete(c);
      sockets.delete(u);
    };
    c.on('error', done).on('close', done);
    u.on('error', done).on('close', done);
    c.pipe(u);
    u.pipe(c);
  });
  server.on('error', (e) => {
    say(`podnet: ${listenKey}: ${e.message}`);
    server.failed = true;
  });
  server.listen({ host, port: Number(port), exclusive: true });
  server.target = target;
  server.closeAll = () => {
    server.close();
    for (const s of sockets) s.destroy();
  };
  return server;
}

const NFT_TABLE = 'ray_connect_podnet';

/** `nft -f -` with `script`; undefined when it worked, else why not. */
function nft(script) {
  const r = spawnSync('nft', ['-f', '-'], { input: script, encoding: 'utf8' });
  if (r.error) return r.error.message;
  return r.status === 0 ? undefined : (r.stderr || `exit ${r.status}`).trim();
}

/** The whole table for `want` (`ip:port` -> `ip:port`), replacing what was there in one transaction. */
function nftScript(want) {
  const rules = [...want].map(([from, to]) => {
    const [ip, port] = from.split(/:(?=\d+$)/);
    return `    ip daddr ${ip} tcp dport ${port} dnat to ${to}`;
  });
  return [
    `table ip ${NFT_TABLE} {}`,
    `delete table ip ${NFT_TABLE}`,
    `table ip ${NFT_TABLE} {`,
    '  chain output {',
    '    type nat hook output priority -100; policy accept;',
    ...rules,
    '  }',
    '}',
    '',
  ].join('\n');
}

export const removeKernelRules = () => nft(`table ip ${NFT_TABLE} {}\ndelete table ip ${NFT_TABLE}\n`);

/** Kernel DNAT when nftables works here, else userland relays. */
async function run(apiServer) {
  const why = nft(nftScript(new Map()));
  if (why === undefined) {
    say('podnet: kernel DNAT (nftables table ' + NFT_TABLE + ')');
    const stop = () => {
      removeKernelRules();
      process.exit(0);
    };
    process.on('SIGTERM', stop).on('SIGINT', stop);
    let applied = '';
    for (;;) {
      try {
        const want = await desired(apiServer);
        const script = nftScript(new Map([...want].sort()));
        if (script !== applied) {
          const failed = nft(script);
          if (failed) say(`podnet: nft: ${failed}`);
          else {
            applied = script;
            say(`podnet: ${[...want].map(([k, v]) => `${k} -> ${v}`).join(', ') || 'no reachable pods'}`);
          }
        }
      } catch (e) {
        say(`podnet: ${e.message}`);
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }
  say(`podnet: no kernel DNAT (${why}); relaying in this process (apt-get install nftables, as root, for the kernel path)`);
  const relays = new Map();
  for (;;) {
    try {
      const want = await desired(apiServer);
      for (const [key, server] of relays)
        if (want.get(key) !== server.target || server.failed) {
          server.closeAll();
          relays.delete(key);
          if (!server.failed) say(`podnet: closed ${key}`);
        }
      for (const [key, target] of want)
        if (!relays.has(key)) {
          relays.set(key, relay(key, target));
          say(`podnet: ${key} -> ${target}`);
        }
    } catch (e) {
      say(`podnet: ${e.message}`);
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] === 'run') {
  const apiServer = process.argv[3];
  if (!apiServer) throw new Error('usage: podnet.mjs run <api server url>');
  void run(apiServer);
}
