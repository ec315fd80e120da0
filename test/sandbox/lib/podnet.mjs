// A pod network on loopback: kwok gives pods IPs in 127.0.100.0/24 (node kwok-node's spec.podCIDR) and
// 127.0.101.0/24 (kwok --cidr, other nodes), addresses every process on this machine can reach (Linux routes all
// of 127.0.0.0/8 to lo). For pods labelled `sandbox.ray-connect.dev/pod-network=reachable`, this relay listens on
// <pod IP>:<pod port> and pipes each connection to the target of the pod's kwok PortForward (the real Ray head on
// 127.0.0.1), so a client connecting to the pod IP reaches the head as it would through a pod network.
// Unlabelled pods have IPs but nothing listens there (connect: refused at once), like a pod behind a NetworkPolicy
// that rejects: the product's direct path then falls back to the port-forward.
//
//   node test/sandbox/lib/podnet.mjs run     (started by `sandbox up` as the daemon "podnet")
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

export async function startPodNetwork(apiServer) {
  if (runningPid('podnet')) {
    say('podnet: already running (relays for pods labelled pod-network=reachable)');
    return;
  }
  say(`podnet: relays <pod IP>:<port> -> kwok PortForward targets for pods labelled ${POD_NETWORK_LABEL}=reachable`);
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

async function run(apiServer) {
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
