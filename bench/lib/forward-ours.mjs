// Child process: our forwarder (@ray-connect/core: forwardPort + openPortForward) from 127.0.0.1:<free port> to
// each target in RC_BENCH_TARGETS (JSON [{namespace, pod, port}]), with the kubeconfig RC_BENCH_KUBECONFIG_FILE.
// One process holds all forwards, as in the editor. Prints {"ports":[...],"how":"..."} when listening, or
// {"error":"..."} and exits 1. Exits when stdin closes or on SIGTERM.
import { coreFn, makeKubeClient } from './core.mjs';

const say = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const silent = { debug() {}, info() {}, warn() {}, error() {} };

async function main() {
  const root = process.env.RC_BENCH_ROOT;
  const targets = JSON.parse(process.env.RC_BENCH_TARGETS);
  const { fn: forwardPort, from } = await coreFn(root, 'forwardPort', 'ray/forwardPort');
  const { fn: openPortForward } = await coreFn(root, 'openPortForward', 'ray/openPortForward');
  // the product checks who connects (/proc/net/tcp uid); RC_BENCH_PEER_CHECK=off measures without
  const peerCheck =
    process.env.RC_BENCH_PEER_CHECK === 'off'
      ? undefined
      : await coreFn(root, 'createPeerCheck', 'ray/peerCheck').then(
          (m) => m.fn({ logger: silent, env: {} }),
          () => undefined,
        );
  const logger = (await import('./core.mjs').then((m) => m.loadCore(root))).silentLogger ?? silent;
  const ctx = { root, kubectl: process.env.RC_BENCH_KUBECTL, log: () => undefined };
  const { kube, how } = await makeKubeClient(ctx, process.env.RC_BENCH_KUBECONFIG_FILE);
  const forwards = await Promise.all(
    targets.map((t) =>
      forwardPort(
        { remotePort: t.port, label: `bench ${t.pod}` },
        {
          target: async () => t.pod,
          open: (pod, port) => openPortForward(kube, t.namespace, pod, port),
          onStreamError: () => undefined,
          logger,
          ...(peerCheck && { allowPeer: peerCheck }),
        },
      ),
    ),
  );
  say({
    ports: forwards.map((f) => f.localPort),
    how: `forwardPort + openPortForward from ${from}${peerCheck ? ' with the peer (uid) check' : ''}, KubeClient: ${how}`,
  });
}

main().catch((e) => {
  say({ error: String(e?.message ?? e).split('\n')[0] });
  process.exit(1);
});
process.stdin.on('close', () => process.exit(0));
process.stdin.resume();
process.on('SIGTERM', () => process.exit(0));
