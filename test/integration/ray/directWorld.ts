// Our own corner of the sandbox for the direct path: a namespace, a kwok node whose spec.podCIDR is a loopback /24
// (pod IPs this machine can reach), RayClusters whose head pods kwok-forward to the sandbox's real Ray heads, and
// ServiceAccounts with and without `pods/portforward`. Head pods labelled `sandbox.ray-connect.dev/pod-network=
// reachable` get a relay on <pod IP>:<port> from the sandbox's podnet daemon (test/sandbox/lib/podnet.mjs);
// unlabelled ones have an IP where nothing listens (like a NetworkPolicy that rejects).
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createToken, kubectl } from '../../sandbox/client.mjs';
import { sandbox, tempDir } from './helpers.js';

const LABEL = 'sandbox.ray-connect.dev/pod-network';

async function k(args: string[], input?: string): Promise<string> {
  const r = await kubectl(args, input === undefined ? {} : { input });
  if (r.code !== 0) throw new Error(`kubectl ${args.slice(0, 3).join(' ')}: ${r.stderr.trim()}`);
  return r.stdout;
}

export interface DirectCluster {
  name: string;
  /** The head pod now (replaceHead changes it). */
  headPod: string;
  podIp(): Promise<string>;
  /** A new head pod (new name, so a new IP) is created first, then the old one deleted: KubeRay's replacement. */
  replaceHead(): Promise<void>;
}

export interface DirectWorld {
  namespace: string;
  /** A kubeconfig of a ServiceAccount that may read RayClusters, Secrets, pods and services: `forward` also
   * `pods/portforward`, `noForward` not. */
  kubeconfig(who: 'forward' | 'noForward'): Promise<string>;
  addCluster(o: { name: string; head: 'token' | 'noauth'; reachable: boolean }): Promise<DirectCluster>;
  dispose(): Promise<void>;
}

export async function createDirectWorld(): Promise<DirectWorld> {
  const s = sandbox() as ReturnType<typeof sandbox> & {
    rayHeads: Record<string, { dashboardPort: number; clientPort: number }>;
    rayTokenFile: string;
  };
  const id = randomBytes(3).toString('hex');
  const namespace = `rc-direct-${id}`;
  const node = `rc-direct-${id}`;
  // a /24 of our own in 127.150-249.x.0 (the sandbox's pod networks are 127.0.100/24 and 127.0.101/24)
  const cidr = `127.${150 + (parseInt(id.slice(0, 2), 16) % 100)}.${parseInt(id.slice(2, 4), 16)}.0/24`;
  const ray = (verbs: string[]) => [
    { apiGroups: ['ray.io'], resources: ['rayclusters'], verbs: ['get', 'list', 'watch'] },
    { apiGroups: [''], resources: ['secrets'], verbs: ['get'] },
    { apiGroups: [''], resources: ['pods', 'services'], verbs: ['get', 'list', 'watch'] },
    ...(verbs.length ? [{ apiGroups: [''], resources: ['pods/portforward'], verbs }] : []),
  ];
  const rbac = (name: string, rules: unknown[]) => [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace } },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name, namespace }, rules },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name, namespace },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [{ kind: 'ServiceAccount', name, namespace }],
    },
  ];
  await k(
    ['apply', '-f', '-'],
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'List',
      items: [
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } },
        {
          apiVersion: 'v1',
          kind: 'Node',
          metadata: { name: node, annotations: { 'kwok.x-k8s.io/node': 'fake' }, labels: { type: 'kwok' } },
          spec: { podCIDR: cidr, podCIDRs: [cidr] },
        },
      ],
    }),
  );
  await k(
    ['apply', '-f', '-'],
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'List',
      items: [...rbac('ray-forward', ray(['get', 'create'])), ...rbac('ray-no-forward', ray([]))],
    }),
  );
  const kubeconfig = async (who: 'forward' | 'noForward') => {
    const token = await createToken(namespace, who === 'forward' ? 'ray-forward' : 'ray-no-forward', {
      expirationSeconds: 3600,
    });
    const file = join(tempDir('rc-direct-'), 'config');
    const config = {
      apiVersion: 'v1',
      kind: 'Config',
      'current-context': 'sa',
      clusters: [{ name: 'sandbox', cluster: { server: s.apiServer, 'certificate-authority': s.caFile } }],
      users: [{ name: 'sa', user: { token } }],
      contexts: [{ name: 'sa', context: { cluster: 'sandbox', user: 'sa', namespace } }],
    };
    writeFileSync(file, JSON.stringify(config), { mode: 0o600 });
    return file;
  };

  const addCluster = async (o: { name: string; head: 'token' | 'noauth'; reachable: boolean }) => {
    const head = s.rayHeads[o.head];
    if (!head) throw new Error(`the sandbox has no Ray head "${o.head}" up`);
    const ports = [
      { name: 'dashboard', containerPort: 8265 },
      { name: 'client', containerPort: 10001 },
    ];
    const container = { name: 'ray-head', image: 'rayproject/ray:2.59.0', ports };
    const labels = {
      'ray.io/cluster': o.name,
      'ray.io/node-type': 'head',
      'ray.io/group': 'headgroup',
      ...(o.reachable && { [LABEL]: 'reachable' }),
    };
    const items: unknown[] = [
      {
        apiVersion: 'ray.io/v1',
        kind: 'RayCluster',
        metadata: { name: o.name, namespace },
        spec: {
          rayVersion: '2.59.0',
          ...(o.head === 'token' && { authOptions: { mode: 'token' } }),
          headGroupSpec: { rayStartParams: {}, template: { spec: { containers: [container] } } },
        },
      },
    ];
    if (o.head === 'token')
      items.push({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: o.name, namespace, labels: { 'ray.io/cluster': o.name } },
        stringData: { auth_token: readFileSync(s.rayTokenFile, 'utf8').trim() },
      });
    await k(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
    const createPod = async (pod: string) => {
      await k(
        ['apply', '-f', '-'],
        JSON.stringify({
          apiVersion: 'v1',
          kind: 'List',
          items: [
            {
              apiVersion: 'kwok.x-k8s.io/v1alpha1',
              kind: 'PortForward',
              metadata: { name: pod, namespace },
              spec: {
                forwards: [
                  { ports: [8265], target: { port: head.dashboardPort, address: '127.0.0.1' } },
                  { ports: [10001], target: { port: head.clientPort, address: '127.0.0.1' } },
                ],
              },
            },
            {
              apiVersion: 'v1',
              kind: 'Pod',
              metadata: { name: pod, namespace, labels },
              spec: { nodeName: node, containers: [container], tolerations: [{ operator: 'Exists' }] },
            },
          ],
        }),
      );
      await waitFor(async () => (await podIp(pod)) !== '', 60_000, `pod ${pod} Running with an IP`);
    };
    const podIp = async (pod: string) => {
      const r = await kubectl([
        'get',
        'pod',
        pod,
        '-n',
        namespace,
        '-o',
        'jsonpath={.status.phase} {.status.podIP}',
      ]);
      const [phase, ip] = r.stdout.trim().split(' ');
      return r.code === 0 && phase === 'Running' && ip ? ip : '';
    };
    const status = async (pod: string) => {
      const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
      const st = {
        state: 'ready',
        head: { podName: pod, serviceName: `${o.name}-head-svc` },
        endpoints: { dashboard: '8265', client: '10001' },
        conditions: [
          {
            type: 'HeadPodReady',
            status: 'True',
            reason: 'HeadPodRunningAndReady',
            message: '',
            lastTransitionTime: now,
          },
        ],
      };
      await k([
        'patch',
        'rayclusters.ray.io',
        o.name,
        '-n',
        namespace,
        '--subresource=status',
        '--type=merge',
        '-p',
        JSON.stringify({ status: st }),
      ]);
    };
    let generation = 1;
    const cluster: DirectCluster = {
      name: o.name,
      headPod: `${o.name}-head-1`,
      podIp: () => podIp(cluster.headPod),
      replaceHead: async () => {
        const old = cluster.headPod;
        const next = `${o.name}-head-${++generation}`;
        await createPod(next);
        await status(next);
        await k(['delete', 'pod', old, '-n', namespace, '--wait=true', '--grace-period=0', '--force']);
        cluster.headPod = next;
      },
    };
    await createPod(cluster.headPod);
    await status(cluster.headPod);
    if (o.reachable) {
      // the podnet daemon relays labelled pods within a second or so
      const ip = await cluster.podIp();
      await waitFor(
        async () =>
          (await fetch(`http://${ip}:8265/api/authentication_mode`, { signal: AbortSignal.timeout(3000) }))
            .ok,
        30_000,
        `the sandbox's pod network (podnet) to relay ${ip}:8265: is it running? node test/sandbox/sandbox.mjs up`,
      );
    }
    return cluster;
  };

  return {
    namespace,
    kubeconfig,
    addCluster,
    dispose: async () => {
      for (const kind of [
        'pods',
        'portforwards.kwok.x-k8s.io',
        'rayclusters.ray.io',
        'secrets',
        'rolebindings',
        'roles',
        'serviceaccounts',
      ])
        await kubectl([
          'delete',
          kind,
          '--all',
          '-n',
          namespace,
          '--wait=false',
          '--grace-period=0',
          '--force',
        ]);
      await kubectl(['delete', 'node', node, '--wait=false']);
      await kubectl(['delete', 'namespace', namespace, '--wait=false']);
      // no kube-controller-manager: finalize the namespace ourselves so it does not stay Terminating
      const got = await kubectl(['get', 'namespace', namespace, '-o', 'json']);
      if (got.code !== 0) return;
      const ns = JSON.parse(got.stdout) as { spec?: { finalizers?: string[] } };
      ns.spec = { ...ns.spec, finalizers: [] };
      await kubectl(['replace', '--raw', `/api/v1/namespaces/${namespace}/finalize`, '-f', '-'], {
        input: JSON.stringify(ns),
      });
    },
  };
}

export async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not yet
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
