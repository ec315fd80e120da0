// The Kubernetes objects of the sandbox: CRDs, namespace, ServiceAccounts, RBAC, the fake node, and for each RayCluster
// what the KubeRay operator would create (auth Secret, head pod, head Service, status). Applied server-side, idempotent.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { kubeconfigs, kubectl, vendor } from './kube.mjs';
import { NODE_POD_CIDR } from './podnet.mjs';
import { say, sleep, waitFor, writePrivate } from './util.mjs';

export const NAMESPACE = 'ray-demo';
export const NODE_NAME = 'kwok-node';
export const RAY_VERSION = '2.59.0';
const FM = ['--server-side', '--force-conflicts', '--field-manager=ray-connect-sandbox'];

export const PORTS = { 'gcs-server': 6379, dashboard: 8265, client: 10001, metrics: 8080, serve: 8000 };

const secretEnv = (secretName) => [
  { name: 'RAY_AUTH_MODE', value: 'token' },
  { name: 'RAY_AUTH_TOKEN', valueFrom: { secretKeyRef: { name: secretName, key: 'auth_token' } } },
];

/**
 * One RayCluster per auth shape. `head`: which local Ray head (A2's lib/ray.mjs) its pod forwards to.
 * `operatorEnv`: env the operator injects into the head pod (not in the RayCluster spec).
 * `specEnv`: env written by the user in the RayCluster spec (legacy/manual). `secret`: the Secret holding the Ray token;
 * `owned` = created by the operator (label + ownerReference), else by the user.
 */
export const CLUSTERS = {
  token: {
    name: 'raycluster-token',
    head: 'token',
    authOptions: { mode: 'token' },
    secret: { name: 'raycluster-token', owned: true },
    operatorEnv: secretEnv('raycluster-token'),
  },
  secretName: {
    name: 'raycluster-secretname',
    head: 'token',
    authOptions: { mode: 'token', secretName: 'raycluster-secretname-byo' },
    secret: { name: 'raycluster-secretname-byo', owned: false },
    operatorEnv: secretEnv('raycluster-secretname-byo'),
  },
  rbac: {
    name: 'raycluster-rbac',
    head: 'rbac',
    authOptions: { mode: 'token', enableK8sTokenAuth: true },
    serviceAccount: 'ray-head',
    operatorEnv: [
      { name: 'RAY_AUTH_MODE', value: 'token' },
      { name: 'RAY_ENABLE_K8S_TOKEN_AUTH', value: 'true' },
    ],
    k8sTokenVolume: true,
  },
  legacy: {
    name: 'raycluster-legacy',
    head: 'token',
    secret: { name: 'raycluster-legacy-manual', owned: false },
    specEnv: secretEnv('raycluster-legacy-manual'),
  },
  noauth: { name: 'raycluster-noauth', head: 'noauth' },
  emptyAuth: {
    name: 'raycluster-empty-auth',
    head: 'noauth',
    authOptions: {},
    // KubeRay creates the Secret for `authOptions: {}` although auth is off (no mode): the product must not send it
    secret: { name: 'raycluster-empty-auth', owned: true },
  },
};

export const headPodName = (name) => `${name}-head-${createHash('sha256').update(name).digest('hex').replace(/[^a-z]/g, '').slice(0, 5).padEnd(5, 'x')}`;
export const headServiceName = (name) => `${name}-head-svc`;

const containerPorts = () => Object.entries(PORTS).map(([name, containerPort]) => ({ name, containerPort, protocol: 'TCP' }));

function headContainerSpec(c) {
  return {
    name: 'ray-head',
    image: `rayproject/ray:${RAY_VERSION}`,
    resources: { limits: { cpu: '1', memory: '2Gi' }, requests: { cpu: '1', memory: '2Gi' } },
    ports: containerPorts(),
    ...(c.specEnv ? { env: c.specEnv } : {}),
  };
}

function rayClusterManifest(c) {
  return {
    apiVersion: 'ray.io/v1',
    kind: 'RayCluster',
    metadata: { name: c.name, namespace: NAMESPACE, labels: { 'ray-connect.dev/sandbox': 'true' } },
    spec: {
      rayVersion: RAY_VERSION,
      ...(c.authOptions ? { authOptions: c.authOptions } : {}),
      headGroupSpec: {
        rayStartParams: { 'dashboard-host': '0.0.0.0' },
        template: { spec: { ...(c.serviceAccount ? { serviceAccountName: c.serviceAccount } : {}), containers: [headContainerSpec(c)] } },
      },
      workerGroupSpecs: [],
    },
  };
}

function ownerRef(c, uid) {
  return [{ apiVersion: 'ray.io/v1', kind: 'RayCluster', name: c.name, uid, controller: true, blockOwnerDeletion: true }];
}

function headPodManifest(c, uid) {
  const labels = {
    'ray.io/cluster': c.name,
    'ray.io/node-type': 'head',
    'ray.io/group': 'headgroup',
    'ray.io/identifier': `${c.name}-head`,
    'ray.io/is-ray-node': 'yes',
    'app.kubernetes.io/name': 'kuberay',
    'app.kubernetes.io/created-by': 'kuberay-operator',
  };
  const env = [
    ...(c.specEnv ?? []),
    ...(c.operatorEnv ?? []),
    { name: 'RAY_CLUSTER_NAME', valueFrom: { fieldRef: { fieldPath: "metadata.labels['ray.io/cluster']" } } },
    { name: 'RAY_CLUSTER_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
    { name: 'RAY_CLOUD_INSTANCE_ID', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    { name: 'RAY_NODE_TYPE_NAME', valueFrom: { fieldRef: { fieldPath: "metadata.labels['ray.io/group']" } } },
    { name: 'KUBERAY_GEN_RAY_START_CMD', value: 'ray start --head --block --dashboard-host=0.0.0.0 --metrics-export-port=8080 --num-cpus=1 --memory=2147483648' },
    { name: 'RAY_PORT', value: '6379' },
    { name: 'RAY_ADDRESS', value: '127.0.0.1:6379' },
    { name: 'RAY_USAGE_STATS_KUBERAY_IN_USE', value: '1' },
    { name: 'RAY_DASHBOARD_ENABLE_K8S_DISK_USAGE', value: '1' },
  ];
  const container = { ...headContainerSpec(c), env };
  const spec = {
    nodeName: NODE_NAME,
    restartPolicy: 'Always',
    containers: [container],
    ...(c.serviceAccount ? { serviceAccountName: c.serviceAccount } : {}),
  };
  if (c.k8sTokenVolume) {
    container.volumeMounts = [{ name: 'ray-token', mountPath: '/var/run/secrets/ray.io/serviceaccount', readOnly: true }];
    spec.volumes = [{ name: 'ray-token', projected: { sources: [{ serviceAccountToken: { path: 'token' } }] } }];
  }
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: headPodName(c.name),
      namespace: NAMESPACE,
      labels,
      annotations: { 'ray.io/ft-enabled': 'false' },
      ...(uid ? { ownerReferences: ownerRef(c, uid) } : {}),
    },
    spec,
  };
}

function headServiceManifest(c, uid) {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: headServiceName(c.name),
      namespace: NAMESPACE,
      labels: { 'ray.io/cluster': c.name, 'ray.io/node-type': 'head', 'ray.io/identifier': `${c.name}-head`, 'app.kubernetes.io/name': 'kuberay', 'app.kubernetes.io/created-by': 'kuberay-operator' },
      ...(uid ? { ownerReferences: ownerRef(c, uid) } : {}),
    },
    spec: {
      clusterIP: 'None',
      selector: { 'ray.io/cluster': c.name, 'ray.io/node-type': 'head' },
      ports: Object.entries(PORTS).map(([name, port]) => ({ name, port, targetPort: port, protocol: 'TCP', appProtocol: name === 'dashboard' ? 'http' : 'tcp' })),
      publishNotReadyAddresses: true,
    },
  };
}

function secretManifest(c, uid, token) {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: {
      name: c.secret.name,
      namespace: NAMESPACE,
      ...(c.secret.owned ? { labels: { 'ray.io/cluster': c.name }, ...(uid ? { ownerReferences: ownerRef(c, uid) } : {}) } : {}),
    },
    stringData: { auth_token: token },
  };
}

const list = (items) => JSON.stringify({ apiVersion: 'v1', kind: 'List', items });
const apply = (items) => kubectl(['apply', ...FM, '-f', '-'], { input: list(items) });

function rbacManifests() {
  const ns = NAMESPACE;
  const rayUsers = [
    { kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'oidc:ray-users' },
    { kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'static:ray-users' },
    { kind: 'ServiceAccount', name: 'ray-user', namespace: ns },
  ];
  const role = (name, rules, namespaced = true) => ({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: namespaced ? 'Role' : 'ClusterRole',
    metadata: { name, ...(namespaced ? { namespace: ns } : {}) },
    rules,
  });
  const binding = (name, roleKind, roleName, subjects, namespaced = true) => ({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: namespaced ? 'RoleBinding' : 'ClusterRoleBinding',
    metadata: { name, ...(namespaced ? { namespace: ns } : {}) },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: roleKind, name: roleName },
    subjects,
  });
  return [
    // what the RBAC-mode Ray head needs (TokenReview + SubjectAccessReview), as in KubeRay's sample
    role('ray-authenticator', [
      { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] },
      { apiGroups: ['authorization.k8s.io'], resources: ['subjectaccessreviews'], verbs: ['create'] },
    ], false),
    binding('ray-authenticator', 'ClusterRole', 'ray-authenticator', [{ kind: 'ServiceAccount', name: 'ray-head', namespace: ns }], false),
    // ray:write on raycluster-rbac: the permission the RBAC-mode head checks
    role('ray-writer', [{ apiGroups: ['ray.io'], resources: ['rayclusters'], resourceNames: [CLUSTERS.rbac.name], verbs: ['ray:write'] }]),
    binding('ray-writer', 'Role', 'ray-writer', [...rayUsers, { kind: 'ServiceAccount', name: 'ray-head', namespace: ns }]),
    // discover clusters, read their token Secret, port-forward to the head
    role('ray-user', [
      { apiGroups: ['ray.io'], resources: ['rayclusters'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['secrets'], verbs: ['get'] },
      { apiGroups: [''], resources: ['pods', 'services'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['pods/portforward'], verbs: ['get', 'create'] },
    ]),
    binding('ray-user', 'Role', 'ray-user', rayUsers),
    // bob: may list RayClusters, nothing else (no Secrets, no ray:write, no port-forward)
    role('ray-viewer', [{ apiGroups: ['ray.io'], resources: ['rayclusters'], verbs: ['get', 'list', 'watch'] }]),
    binding('ray-viewer', 'Role', 'ray-viewer', [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'oidc:bob' }]),
  ];
}

export async function applyBase() {
  say('objects: CRDs (KubeRay v1.7.0 RayCluster, kwok PortForward/ClusterPortForward)');
  kubectl(['apply', ...FM, '-f', join(vendor, 'kuberay-v1.7.0', 'ray.io_rayclusters.yaml')]);
  for (const f of ['kwok.x-k8s.io_portforwards.yaml', 'kwok.x-k8s.io_clusterportforwards.yaml']) kubectl(['apply', ...FM, '-f', join(vendor, 'kwok-v0.8.0', 'crd', f)]);
  // (kubectl wait errors out instead of waiting while .status.conditions is still null: poll)
  for (const crd of ['rayclusters.ray.io', 'portforwards.kwok.x-k8s.io', 'clusterportforwards.kwok.x-k8s.io']) {
    await waitFor(`CRD ${crd} Established`, () => kubectl(['get', 'crd', crd, '-o', 'jsonpath={.status.conditions[?(@.type=="Established")].status}']).stdout.trim() === 'True', { timeoutMs: 60_000 });
  }
  say(`objects: namespace ${NAMESPACE}, node ${NODE_NAME}, ServiceAccounts, RBAC`);
  apply([
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } },
    {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: NODE_NAME, annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' }, labels: { type: 'kwok', 'kubernetes.io/hostname': NODE_NAME, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64' } },
      // kwok takes pod IPs from here (loopback, reachable on this machine; lib/podnet.mjs relays labelled pods)
      spec: { podCIDR: NODE_POD_CIDR, podCIDRs: [NODE_POD_CIDR] },
    },
    // no kube-controller-manager: ServiceAccounts are created explicitly (default included)
    ...['default', 'ray-user', 'ray-head'].map((name) => ({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace: NAMESPACE } })),
    ...rbacManifests(),
  ]);
}

function podIsReady(name) {
  const r = kubectl(['get', 'pod', '-n', NAMESPACE, name, '-o', 'json'], { allowFail: true });
  if (r.code !== 0) return undefined;
  const p = JSON.parse(r.stdout);
  return p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? p : undefined;
}

/** RayClusters and what the operator would make for them. `rayToken` goes to Secrets over stdin only. */
export async function applyRayClusters(rayToken) {
  const cs = Object.values(CLUSTERS);
  say(`objects: RayClusters ${cs.map((c) => c.name).join(', ')}`);
  apply(cs.map(rayClusterManifest));
  const uids = Object.fromEntries(
    JSON.parse(kubectl(['get', 'rayclusters.ray.io', '-n', NAMESPACE, '-o', 'json']).stdout).items.map((i) => [i.metadata.name, i.metadata.uid]),
  );
  apply(cs.filter((c) => c.secret).map((c) => secretManifest(c, uids[c.name], rayToken)));
  apply(cs.map((c) => headServiceManifest(c, uids[c.name])));
  const pods = cs.map((c) => headPodManifest(c, uids[c.name]));
  const r = kubectl(['apply', ...FM, '-f', '-'], { input: list(pods), allowFail: true });
  if (r.code !== 0) {
    // pod specs are immutable: a changed definition (or a stale owner uid) means recreate
    say('objects: recreating head pods (definition changed)');
    kubectl(['delete', 'pod', '-n', NAMESPACE, '-l', 'ray.io/node-type=head', '--wait=false', '--grace-period=0', '--force'], { allowFail: true });
    await waitFor('old head pods to go', () => JSON.parse(kubectl(['get', 'pods', '-n', NAMESPACE, '-l', 'ray.io/node-type=head', '-o', 'json']).stdout).items.length === 0, { timeoutMs: 60_000 });
    apply(pods);
  }
  const ready = {};
  for (const c of cs) {
    ready[c.name] = await waitFor(`head pod ${headPodName(c.name)} Ready (kwok)`, () => podIsReady(headPodName(c.name)), { timeoutMs: 60_000, logName: 'kwok' });
  }
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  for (const c of cs) {
    const pod = ready[c.name];
    const cond = (type, reason) => ({ type, status: 'True', reason, message: '', lastTransitionTime: now, observedGeneration: 1 });
    const status = {
      state: 'ready',
      reason: '',
      observedGeneration: 1,
      lastUpdateTime: now,
      stateTransitionTimes: { ready: now },
      head: { podName: pod.metadata.name, podIP: pod.status.podIP ?? '', serviceName: headServiceName(c.name), serviceIP: pod.status.podIP ?? '' },
      endpoints: Object.fromEntries(Object.entries(PORTS).map(([k, v]) => [k, String(v)])),
      conditions: [cond('HeadPodReady', 'HeadPodRunningAndReady'), cond('RayClusterProvisioned', 'AllPodRunningAndReadyFirstTime'), { ...cond('RayClusterReplicaFailure', ''), status: 'False', reason: 'NoFailure' }],
      desiredWorkerReplicas: 0,
      readyWorkerReplicas: 0,
      availableWorkerReplicas: 0,
      minWorkerReplicas: 0,
      maxWorkerReplicas: 0,
      desiredCPU: '1',
      desiredMemory: '2Gi',
      desiredGPU: '0',
      desiredTPU: '0',
    };
    kubectl(['patch', 'rayclusters.ray.io', c.name, '-n', NAMESPACE, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status })]);
  }
  return Object.fromEntries(Object.entries(CLUSTERS).map(([k, c]) => [k, { name: c.name, headPod: headPodName(c.name), headService: headServiceName(c.name), secretName: c.secret?.name, rayHead: c.head }]));
}

/** kwok PortForward objects: head pod ports -> the local Ray heads (name/namespace = the pod's). */
export function applyPortForwards(heads) {
  const items = [];
  for (const c of Object.values(CLUSTERS)) {
    const h = heads?.[c.head];
    if (!h) continue;
    const fwd = [
      [PORTS.dashboard, h.dashboardPort],
      [PORTS.client, h.clientPort],
      [PORTS['gcs-server'], h.gcsPort],
    ].filter(([, t]) => t);
    items.push({
      apiVersion: 'kwok.x-k8s.io/v1alpha1',
      kind: 'PortForward',
      metadata: { name: headPodName(c.name), namespace: NAMESPACE },
      spec: { forwards: fwd.map(([port, target]) => ({ ports: [port], target: { port: target, address: '127.0.0.1' } })) },
    });
  }
  if (items.length) apply(items);
  return items.length;
}

/** A long-lived token of ServiceAccount ray-demo/ray-head (for the RBAC-mode head), 0600. */
export function issueHeadToken(file) {
  // reuse a still-valid token (a new one would make lib/ray.mjs restart the RBAC head); it dies with the SA's uid
  if (existsSync(file)) {
    const cfg = `${file}.kubeconfig`;
    const admin = JSON.parse(readFileSync(kubeconfigs.admin, 'utf8'));
    writePrivate(cfg, JSON.stringify({ ...admin, users: [{ name: admin.users[0].name, user: { tokenFile: file } }] }));
    const r = kubectl(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}'], { kubeconfig: cfg, allowFail: true });
    rmSync(cfg, { force: true });
    if (r.code === 0 && r.stdout.trim() === `system:serviceaccount:${NAMESPACE}:ray-head`) return file;
  }
  const t = kubectl(['create', 'token', 'ray-head', '-n', NAMESPACE, '--duration=8760h']).stdout.trim();
  writePrivate(file, t);
  return file;
}

export { readFileSync, sleep };

/**
 * Waits until `kubectl port-forward` to each head pod's dashboard port reaches its Ray head (kwok picks up PortForward
 * objects through a watch, so right after applying them a forward can still fail with "no forward found").
 */
export async function verifyForwards(heads, { kubectlBin, kubeconfig, timeoutMs = 60_000 }) {
  const { spawn } = await import('node:child_process');
  const probeOnce = (pod) =>
    new Promise((res) => {
      const p = spawn(kubectlBin, ['--kubeconfig', kubeconfig, '-n', NAMESPACE, 'port-forward', '--address', '127.0.0.1', `pod/${pod}`, `:${PORTS.dashboard}`], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let done = false;
      const finish = (v) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        p.kill();
        res(v);
      };
      const timer = setTimeout(() => finish(undefined), 15_000);
      p.on('exit', () => finish(undefined));
      p.stdout.on('data', async (d) => {
        out += d;
        const m = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(out);
        if (!m || done) return;
        try {
          const r = await fetch(`http://127.0.0.1:${m[1]}/api/authentication_mode`, { signal: AbortSignal.timeout(10_000) });
          finish(r.ok ? (await r.json()).authentication_mode : undefined);
        } catch {
          finish(undefined);
        }
      });
    });
  for (const c of Object.values(CLUSTERS)) {
    if (!heads?.[c.head]) continue;
    const pod = headPodName(c.name);
    await waitFor(`port-forward pod/${pod} :${PORTS.dashboard} to reach Ray head "${c.head}"`, () => probeOnce(pod), { timeoutMs, intervalMs: 500, logName: 'kwok' });
  }
}
