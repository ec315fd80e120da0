import type {
  ClusterSummary,
  ConnectionPath,
  ConnectionSummary,
  RayAuthMode,
  RayClusterList,
  RayClusterRef,
  RayClusterSummary,
  RayTokenSource,
} from './api.js';
import type { ErrorInfo } from './errors.js';
import { CommandIds, type CommandId } from './commands.js';
import { defaultTranslate, expiryState, formatExpiry, type Translate } from './format.js';

/**
 * The tree both editors show (ux.md "The tree"): a pure function of the API's plain data and a clock.
 * VS Code turns nodes into TreeItems; JupyterLab renders them in its side panel. No editor types here.
 */

/** Semantic icon ids. Hosts map them to their icon sets (VS Code: codicons + theme colours). */
export type IconId =
  | 'cluster-signed-in'
  | 'cluster-expiring'
  | 'cluster-expired'
  | 'cluster-signed-out'
  | 'cluster-error'
  | 'namespace'
  | 'ray-ready'
  | 'ray-provisioning'
  | 'ray-failed'
  | 'ray-connected'
  | 'ray-connecting'
  | 'ray-reconnecting'
  | 'ray-access-denied'
  | 'dashboard'
  | 'ray-client'
  | 'env'
  | 'loading'
  | 'info'
  | 'warning'
  | 'error';

export type NodeKind = 'cluster' | 'namespace' | 'rayCluster' | 'detail' | 'message';

export type ClusterState = 'signed-in' | 'expiring-soon' | 'expired' | 'signed-out' | 'error';
export type RayNodeState =
  | 'ready'
  | 'provisioning'
  | 'failed'
  | 'suspended'
  | 'unknown'
  | 'connecting'
  | 'connected'
  | 'reconnecting'
  | 'access-denied';

export interface NodeCommand {
  command: CommandId;
  args: unknown[];
}

export interface TreeNode {
  /** Stable across refreshes (hosts keep expansion and selection by it). */
  id: string;
  kind: NodeKind;
  label: string;
  description: string;
  /** Plain text, several lines. Never a secret. */
  tooltip: string;
  /** Label for screen readers: label + state in words. */
  accessibilityLabel: string;
  icon: IconId;
  state?: ClusterState | RayNodeState;
  /** For `when` clauses / CSS classes: e.g. `cluster.signedIn`, `rayCluster.connected`. */
  contextValue: string;
  /** Inline buttons, in order. */
  actions: CommandId[];
  /** What a click (or Enter) does. */
  command?: NodeCommand;
  collapsible: 'none' | 'collapsed' | 'expanded';
  children: TreeNode[];
  clusterId?: string;
  ref?: RayClusterRef;
}

/** What is loaded for a cluster's Ray clusters: the list, an error, or not yet (loading). */
export type RayClustersEntry = { list: RayClusterList } | { error: ErrorInfo } | { loading: true };

export interface InjectionCounts {
  terminals: number;
  kernels: number;
  /** Running kernels of another language than Python: they cannot be updated while they run. */
  skippedKernels?: number;
}

export interface ViewModelInput {
  clusters: ClusterSummary[];
  /** By cluster id. Missing = not loaded yet. */
  rayClusters: Record<string, RayClustersEntry | undefined>;
  connections: ConnectionSummary[];
  /** By refKey(ref): how many terminals/kernels got the env. */
  injections?: Record<string, InjectionCounts>;
  now: number;
  t?: Translate;
}

export interface EmptyState {
  message: string;
  actions: CommandId[];
}

export interface ViewModel {
  nodes: TreeNode[];
  /** Set when there is nothing to list: what to do next. */
  empty?: EmptyState;
}

export function refKey(ref: RayClusterRef): string {
  return `${ref.clusterId}/${ref.namespace}/${ref.name}`;
}

export function sameRef(a: RayClusterRef, b: RayClusterRef): boolean {
  return a.clusterId === b.clusterId && a.namespace === b.namespace && a.name === b.name;
}

export function authModeLabel(mode: RayAuthMode, t: Translate = defaultTranslate): string {
  switch (mode) {
    case 'token':
      return t('token auth');
    case 'kubernetes':
      return t('Kubernetes RBAC');
    case 'none':
      return t('no auth');
    default:
      return t('auth unknown');
  }
}

export function tokenSourceLabel(source: RayTokenSource, t: Translate = defaultTranslate): string {
  switch (source.kind) {
    case 'secret':
      return t('Secret {0} key {1}', source.secretName, source.key);
    case 'kubernetes-identity':
      return t('your Kubernetes token');
    case 'head-env-literal':
      return t('the head pod environment');
    case 'head-env-file':
      return t('file {0} on the head pod', source.path);
    default:
      return t('none');
  }
}

export function buildViewModel(input: ViewModelInput): ViewModel {
  const t = input.t ?? defaultTranslate;
  if (input.clusters.length === 0) {
    return {
      nodes: [],
      empty: {
        message: t('No clusters found in your kubeconfig. Add a cluster, or sign in with a token.'),
        actions: [CommandIds.signInToken, CommandIds.signIn],
      },
    };
  }
  const sorted = [...input.clusters].sort(
    (a, b) => Number(b.current) - Number(a.current) || a.name.localeCompare(b.name),
  );
  return { nodes: sorted.map((c) => clusterNode(c, input, t)) };
}

export function clusterState(cluster: ClusterSummary, now: number): ClusterState {
  switch (cluster.signIn.status) {
    case 'signed-in': {
      const e = expiryState(cluster.signIn.expiresAt, now);
      if (e === 'expired') return 'expired';
      return e === 'expiring-soon' ? 'expiring-soon' : 'signed-in';
    }
    case 'expired':
      return 'expired';
    case 'error':
      return 'error';
    default:
      return 'signed-out';
  }
}

const CLUSTER_ICONS: Record<ClusterState, IconId> = {
  'signed-in': 'cluster-signed-in',
  'expiring-soon': 'cluster-expiring',
  expired: 'cluster-expired',
  'signed-out': 'cluster-signed-out',
  error: 'cluster-error',
};

const CLUSTER_CONTEXT: Record<ClusterState, string> = {
  'signed-in': 'cluster.signedIn',
  'expiring-soon': 'cluster.signedIn',
  expired: 'cluster.expired',
  'signed-out': 'cluster.signedOut',
  error: 'cluster.error',
};

function methodLabel(method: string | undefined, t: Translate): string {
  switch (method) {
    case 'kubeconfig':
      return t('kubeconfig');
    case 'device':
      return t('device code');
    case 'browser':
      return t('browser');
    case 'openshift':
      return t('OpenShift');
    case 'token':
      return t('token');
    case 'in-cluster':
      return t("pod's service account");
    default:
      return t('unknown');
  }
}

function clusterNode(cluster: ClusterSummary, input: ViewModelInput, t: Translate): TreeNode {
  const state = clusterState(cluster, input.now);
  const signIn = cluster.signIn;
  let description: string;
  switch (state) {
    case 'signed-in':
    case 'expiring-soon': {
      const who = signIn.identity?.username ?? t('signed in');
      const exp = formatExpiry(signIn.expiresAt, input.now, t);
      description = exp ? `${who}, ${exp}` : who;
      break;
    }
    case 'expired':
      description = t('sign-in expired');
      break;
    case 'error':
      description = t('sign-in failed');
      break;
    default:
      description = t('signed out');
  }
  const tooltip = [
    cluster.name,
    t('Server: {0}', cluster.server),
    cluster.file ? t('Kubeconfig: {0}', cluster.file) : undefined,
    signIn.identity ? t('Signed in as {0}', signIn.identity.username) : undefined,
    signIn.identity && signIn.identity.groups.length
      ? t('Groups: {0}', signIn.identity.groups.join(', '))
      : undefined,
    signIn.method && (state === 'signed-in' || state === 'expiring-soon')
      ? t('Sign-in method: {0}', methodLabel(signIn.method, t))
      : undefined,
    signIn.expiresAt !== undefined
      ? t('Sign-in {0}', formatExpiry(signIn.expiresAt, input.now, t))
      : undefined,
    signIn.error ? t('Error: {0}', signIn.error.message) : undefined,
    t('Secrets stored in: {0}', cluster.storage.label),
    cluster.storage.degradedReason ? cluster.storage.degradedReason : undefined,
    t('Namespaces: {0}', cluster.namespaces.join(', ')),
  ]
    .filter((l): l is string => !!l)
    .join('\n');
  const signedIn = state === 'signed-in' || state === 'expiring-soon';
  const node: TreeNode = {
    // A signed-out row has no children; giving it another id makes hosts (VS Code) apply the expanded default
    // when it becomes signed in instead of keeping it collapsed.
    id: signedIn ? `cluster:${cluster.id}` : `cluster:${cluster.id}#signed-out`,
    kind: 'cluster',
    label: cluster.name,
    description,
    tooltip,
    accessibilityLabel: `${cluster.name}, ${description}`,
    icon: CLUSTER_ICONS[state],
    state,
    contextValue: CLUSTER_CONTEXT[state],
    actions: signedIn ? [CommandIds.refresh, CommandIds.signOut] : [CommandIds.signIn],
    collapsible: signedIn ? (cluster.current ? 'expanded' : 'collapsed') : 'none',
    children: [],
    clusterId: cluster.id,
  };
  if (signedIn) node.children = clusterChildren(cluster, input, t);
  return node;
}

function messageNode(
  id: string,
  label: string,
  icon: IconId,
  tooltip: string,
  extra: Partial<TreeNode> = {},
): TreeNode {
  return {
    id,
    kind: 'message',
    label,
    description: '',
    tooltip,
    accessibilityLabel: label,
    icon,
    contextValue: 'message',
    actions: [],
    collapsible: 'none',
    children: [],
    ...extra,
  };
}

function clusterChildren(cluster: ClusterSummary, input: ViewModelInput, t: Translate): TreeNode[] {
  const entry = input.rayClusters[cluster.id];
  const base = `cluster:${cluster.id}`;
  if (!entry || 'loading' in entry) {
    return [messageNode(`${base}/loading`, t('Loading Ray clusters...'), 'loading', '')];
  }
  if ('error' in entry) {
    return [
      messageNode(
        `${base}/error`,
        t("Can't list Ray clusters"),
        'error',
        entry.error.fix ? `${entry.error.message}\n${entry.error.fix}` : entry.error.message,
        {
          description: entry.error.message,
          contextValue: 'message.error',
          clusterId: cluster.id,
        },
      ),
    ];
  }
  const list = entry.list;
  const errors = list.errors.map((e) =>
    messageNode(
      `${base}/ns-error/${e.namespace}`,
      t("Can't list Ray clusters in {0}", e.namespace),
      'warning',
      e.error.fix ? `${e.error.message}\n${e.error.fix}` : e.error.message,
      {
        description: e.error.fix ?? e.error.message,
        contextValue: 'message.error',
        clusterId: cluster.id,
      },
    ),
  );
  const rays = [...list.items].sort(
    (a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name),
  );
  if (rays.length === 0) {
    const searched = list.searched.length ? list.searched : cluster.namespaces;
    return [
      messageNode(
        `${base}/empty`,
        t('No Ray clusters in {0}', searched.join(', ')),
        'info',
        t('Searched namespaces: {0}. Choose other namespaces to search.', searched.join(', ')),
        {
          contextValue: 'message.noRayClusters',
          command: { command: CommandIds.selectNamespaces, args: [cluster.id] },
          actions: [CommandIds.selectNamespaces],
          clusterId: cluster.id,
        },
      ),
      ...errors,
    ];
  }
  const byNamespace = new Map<string, RayClusterSummary[]>();
  for (const r of rays) byNamespace.set(r.namespace, [...(byNamespace.get(r.namespace) ?? []), r]);
  const grouped = cluster.namespaces.length > 1 || byNamespace.size > 1;
  if (!grouped) return [...rays.map((r) => rayNode(r, input, t)), ...errors];
  const namespaceNodes: TreeNode[] = [...byNamespace.entries()].map(([ns, items]) => ({
    id: `${base}/ns/${ns}`,
    kind: 'namespace',
    label: ns,
    description: '',
    tooltip: t('Namespace {0}', ns),
    accessibilityLabel: t('Namespace {0}', ns),
    icon: 'namespace',
    contextValue: 'namespace',
    actions: [],
    collapsible: 'expanded',
    children: items.map((r) => rayNode(r, input, t)),
    clusterId: cluster.id,
  }));
  return [...namespaceNodes, ...errors];
}

function findConnection(
  ray: RayClusterSummary,
  connections: ConnectionSummary[],
): ConnectionSummary | undefined {
  const live = connections.find((c) => sameRef(c, ray));
  const c = live ?? ray.connection;
  return c && c.state !== 'disconnected' ? c : undefined;
}

export function rayNodeState(
  ray: RayClusterSummary,
  connection: ConnectionSummary | undefined,
): RayNodeState {
  if (connection) {
    if (connection.error?.code === 'ACCESS_DENIED') return 'access-denied';
    switch (connection.state) {
      case 'ready':
        return 'connected';
      case 'connecting':
        return 'connecting';
      case 'reconnecting':
        return 'reconnecting';
      case 'failed':
        return 'failed';
    }
  }
  return ray.state;
}

const RAY_ICONS: Record<RayNodeState, IconId> = {
  ready: 'ray-ready',
  provisioning: 'ray-provisioning',
  failed: 'ray-failed',
  suspended: 'ray-provisioning',
  unknown: 'ray-provisioning',
  connecting: 'ray-connecting',
  connected: 'ray-connected',
  reconnecting: 'ray-reconnecting',
  'access-denied': 'ray-access-denied',
};

function rayStateLabel(state: RayNodeState, t: Translate): string {
  switch (state) {
    case 'ready':
      return t('ready');
    case 'provisioning':
      return t('provisioning');
    case 'failed':
      return t('failed');
    case 'suspended':
      return t('suspended');
    case 'connecting':
      return t('connecting');
    case 'connected':
      return t('ready - connected');
    case 'reconnecting':
      return t('reconnecting');
    case 'access-denied':
      return t('access denied');
    default:
      return t('state unknown');
  }
}

/** How a connection reaches its head, for tooltips and `ray-connect status`. */
export function connectionPathLabel(path: ConnectionPath, t: Translate = defaultTranslate): string {
  switch (path) {
    case 'direct':
      return t('direct to the head pod (no port-forward)');
    case 'fronted':
      return t('through the cluster proxy in front of the dashboard');
    default:
      return t('port-forward through the Kubernetes API server');
  }
}

function rayNode(ray: RayClusterSummary, input: ViewModelInput, t: Translate): TreeNode {
  const connection = findConnection(ray, input.connections);
  const state = rayNodeState(ray, connection);
  const ref: RayClusterRef = { clusterId: ray.clusterId, namespace: ray.namespace, name: ray.name };
  const id = `ray:${refKey(ref)}`;
  const connected = state === 'connected' || state === 'reconnecting';
  // the usual port-forward needs no word on the row; the direct path does (it needs no pods/portforward right)
  const direct = connected && connection?.path === 'direct' ? ` ${t('(direct)')}` : '';
  const description = `${authModeLabel(ray.authMode, t)} - ${rayStateLabel(state, t)}${direct}`;
  let actions: CommandId[];
  let contextValue: string;
  if (connected) {
    actions = [CommandIds.openDashboard, CommandIds.copyEnv, CommandIds.disconnect];
    contextValue = state === 'connected' ? 'rayCluster.connected' : 'rayCluster.reconnecting';
  } else if (state === 'connecting') {
    actions = [];
    contextValue = 'rayCluster.connecting';
  } else if (state === 'ready' || state === 'access-denied' || (state === 'failed' && connection)) {
    actions = [CommandIds.connect];
    contextValue = 'rayCluster.ready';
  } else {
    actions = [];
    contextValue = 'rayCluster.notReady';
  }
  const tooltip = [
    `${ray.name} (${ray.namespace})`,
    t('Auth: {0}', authModeLabel(ray.authMode, t)),
    ray.authMode !== 'none' ? t('Ray token from: {0}', tokenSourceLabel(ray.tokenSource, t)) : undefined,
    t('State: {0}', rayStateLabel(state, t)),
    connected && connection
      ? t('Path: {0}', connectionPathLabel(connection.path ?? 'forward', t))
      : undefined,
    ray.stateReason,
    ray.rayVersion ? t('Ray {0}', ray.rayVersion) : undefined,
    ray.frontedBy ? t('Dashboard behind {0}', ray.frontedBy.url) : undefined,
    connection?.tokenExpiresAt !== undefined
      ? t('Ray token {0}', formatExpiry(connection.tokenExpiresAt, input.now, t))
      : undefined,
    connection?.error ? t('Error: {0}', connection.error.message) : undefined,
    connection?.error?.fix,
    ...ray.warnings,
  ]
    .filter((l): l is string => !!l)
    .join('\n');
  const children: TreeNode[] = [];
  if (connection && connected) {
    if (connection.dashboardUrl) {
      children.push(
        detailNode(`${id}/dashboard`, t('Dashboard'), connection.dashboardUrl, 'dashboard', ref, {
          command: CommandIds.openDashboard,
          args: [ref],
        }),
      );
    }
    if (connection.clientAddress) {
      children.push(detailNode(`${id}/client`, t('Ray Client'), connection.clientAddress, 'ray-client', ref));
    }
    const counts = input.injections?.[refKey(ref)];
    if (counts) {
      children.push(
        detailNode(`${id}/env`, t('Env'), injectionText(counts, t), 'env', ref, {
          command: CommandIds.copyEnv,
          args: [ref],
        }),
      );
    }
  }
  return {
    // Like cluster rows: a row that gains children gets a new id, so hosts apply the expanded default.
    id: children.length ? `${id}#connected` : id,
    kind: 'rayCluster',
    label: ray.name,
    description,
    tooltip,
    accessibilityLabel: `${ray.name}, ${description}`,
    icon: RAY_ICONS[state],
    state,
    contextValue,
    actions,
    collapsible: children.length ? 'expanded' : 'none',
    children,
    clusterId: ray.clusterId,
    ref,
  };
}

export function injectionText(counts: InjectionCounts, t: Translate = defaultTranslate): string {
  const terms = counts.terminals === 1 ? t('1 terminal') : t('{0} terminals', counts.terminals);
  const kernels = counts.kernels === 1 ? t('1 kernel') : t('{0} kernels', counts.kernels);
  const text = t('in {0}, {1}', terms, kernels);
  if (!counts.skippedKernels) return text;
  const skipped =
    counts.skippedKernels === 1
      ? t('1 non-Python kernel gets it on restart')
      : t('{0} non-Python kernels get it on restart', counts.skippedKernels);
  return `${text}; ${skipped}`;
}

function detailNode(
  id: string,
  label: string,
  description: string,
  icon: IconId,
  ref: RayClusterRef,
  command?: NodeCommand,
): TreeNode {
  const node: TreeNode = {
    id,
    kind: 'detail',
    label,
    description,
    tooltip: `${label}: ${description}`,
    accessibilityLabel: `${label} ${description}`,
    icon,
    contextValue: `detail.${icon}`,
    actions: [],
    collapsible: 'none',
    children: [],
    clusterId: ref.clusterId,
    ref,
  };
  if (command) node.command = command;
  return node;
}

/** Every node, depth first (tests, search, "reveal"). */
export function flattenNodes(nodes: TreeNode[]): TreeNode[] {
  return nodes.flatMap((n) => [n, ...flattenNodes(n.children)]);
}
