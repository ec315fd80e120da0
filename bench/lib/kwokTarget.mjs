// A kwok pod whose port forwards to a local process (the bench's HTTP target), created with the admin kubeconfig.
// Needs kwok running with --enable-crds=PortForward (the sandbox does); otherwise says so.
import { kubectl, kubectlJson } from './kube.mjs';

export const BENCH_NS = 'rc-bench';

/** The first kwok-managed node (annotation kwok.x-k8s.io/node), else the first node. */
export async function kwokNode(ctx) {
  const nodes = (await kubectlJson(ctx, ['get', 'nodes'])).items ?? [];
  if (!nodes.length) throw new Error('the sandbox has no node (kwok not running?)');
  const fake = nodes.find((n) => n.metadata?.annotations?.['kwok.x-k8s.io/node']);
  return (fake ?? nodes[0]).metadata.name;
}

export async function hasPortForwardCrd(ctx) {
  try {
    await kubectl(ctx, ['get', 'crd', 'portforwards.kwok.x-k8s.io', '-o', 'name']);
    return true;
  } catch {
    return false;
  }
}

export async function ensureNamespace(ctx, ns) {
  await kubectl(ctx, ['apply', '--server-side', '--force-conflicts', '--field-manager=rc-bench', '-f', '-'], {
    input: JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }),
  });
}

/**
 * Creates (or updates) pod `name` in `ns` on the kwok node with container port `podPort`, and a kwok PortForward
 * mapping it to 127.0.0.1:targetPort. Waits until the pod is Ready. Returns a cleanup function.
 */
export async function createForwardedPod(ctx, { ns = BENCH_NS, name, podPort, targetPort, node, labels = {} }) {
  if (!(await hasPortForwardCrd(ctx))) {
    throw new Error('kwok PortForward CRD not installed (kwok must run with --enable-crds=PortForward)');
  }
  node ??= await kwokNode(ctx);
  await ensureNamespace(ctx, ns);
  const objects = {
    apiVersion: 'v1',
    kind: 'List',
    items: [
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name, namespace: ns, labels: { app: 'rc-bench', ...labels } },
        spec: {
          nodeName: node,
          containers: [{ name: 'target', image: 'rc-bench/target', ports: [{ name: 'http', containerPort: podPort }] }],
          tolerations: [{ operator: 'Exists' }],
        },
      },
      {
        apiVersion: 'kwok.x-k8s.io/v1alpha1',
        kind: 'PortForward',
        metadata: { name, namespace: ns },
        spec: { forwards: [{ ports: [podPort], target: { address: '127.0.0.1', port: targetPort } }] },
      },
    ],
  };
  await kubectl(ctx, ['apply', '--server-side', '--force-conflicts', '--field-manager=rc-bench', '-f', '-'], {
    input: JSON.stringify(objects),
  });
  await kubectl(ctx, ['-n', ns, 'wait', '--for=condition=Ready', `pod/${name}`, '--timeout=60s'], { timeoutMs: 70_000 });
  return async () => {
    await kubectl(ctx, ['-n', ns, 'delete', `pod/${name}`, `portforward.kwok.x-k8s.io/${name}`, '--ignore-not-found', '--wait=false', '--grace-period=0', '--force'], {
      timeoutMs: 30_000,
    }).catch(() => undefined);
  };
}

/**
 * A kwok node of our own whose spec.podCIDR is a loopback /24, so its pods get IPs this machine reaches (the
 * sandbox's podnet daemon relays pods labelled sandbox.ray-connect.dev/pod-network=reachable: test/sandbox/README.md).
 */
export async function ensurePodNetworkNode(ctx, name, cidr) {
  await kubectl(ctx, ['apply', '--server-side', '--force-conflicts', '--field-manager=rc-bench', '-f', '-'], {
    input: JSON.stringify({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name, annotations: { 'kwok.x-k8s.io/node': 'fake' }, labels: { type: 'kwok' } },
      spec: { podCIDR: cidr, podCIDRs: [cidr] },
    }),
  });
}

export async function podIp(ctx, ns, name) {
  const pod = await kubectlJson(ctx, ['-n', ns, 'get', 'pod', name]);
  return pod.status?.podIP ?? '';
}
