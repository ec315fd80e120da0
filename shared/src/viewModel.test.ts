import { describe, expect, it } from 'vitest';
import { buildViewModel, flattenNodes, injectionText, type ViewModelInput } from './viewModel.js';
import { MIN, NOW, cluster, connection, ray } from './testFixtures.js';

function input(over: Partial<ViewModelInput> = {}): ViewModelInput {
  return { clusters: [cluster()], rayClusters: {}, connections: [], now: NOW, ...over };
}

describe('buildViewModel', () => {
  it('empty kubeconfig: says what to do', () => {
    const vm = buildViewModel(input({ clusters: [] }));
    expect(vm.nodes).toEqual([]);
    expect(vm.empty?.actions).toContain('rayConnect.signInToken');
  });

  it('signed-in cluster: identity and "expires in 52m", Refresh and Sign out', () => {
    const [node] = buildViewModel(input()).nodes;
    expect(node).toMatchObject({
      id: 'cluster:context:prod-east',
      label: 'prod-east',
      description: 'alice@example.com, expires in 52m',
      icon: 'cluster-signed-in',
      contextValue: 'cluster.signedIn',
      actions: ['rayConnect.refresh', 'rayConnect.signOut'],
      collapsible: 'expanded',
    });
    expect(node?.tooltip).toContain('Server: https://api.prod-east:6443');
    expect(node?.tooltip).toContain('Secrets stored in: VS Code secret storage');
    expect(node?.tooltip).toContain('Groups: team-a');
    expect(node?.children[0]?.label).toBe('Loading Ray clusters...');
  });

  it('cluster states: expiring soon, expired, signed out, sorted current first', () => {
    const vm = buildViewModel(
      input({
        clusters: [
          cluster({
            id: 'a',
            name: 'a-soon',
            current: false,
            signIn: { status: 'signed-in', expiresAt: NOW + 2 * MIN },
          }),
          cluster({
            id: 'b',
            name: 'b-exp',
            current: false,
            signIn: { status: 'signed-in', expiresAt: NOW - MIN },
          }),
          cluster({ id: 'c', name: 'staging', current: false, signIn: { status: 'signed-out' } }),
          cluster({ id: 'd', name: 'z-current', current: true }),
        ],
      }),
    );
    expect(vm.nodes.map((n) => [n.label, n.icon, n.contextValue])).toEqual([
      ['z-current', 'cluster-signed-in', 'cluster.signedIn'],
      ['a-soon', 'cluster-expiring', 'cluster.signedIn'],
      ['b-exp', 'cluster-expired', 'cluster.expired'],
      ['staging', 'cluster-signed-out', 'cluster.signedOut'],
    ]);
    const staging = vm.nodes[3]!;
    expect(staging.description).toBe('signed out');
    expect(staging.actions).toEqual(['rayConnect.signIn']);
    expect(staging.collapsible).toBe('none');
    expect(vm.nodes[1]!.collapsible).toBe('collapsed');
  });

  it('Ray clusters with auth mode and state; connected one has details and its actions', () => {
    const vm = buildViewModel(
      input({
        rayClusters: {
          'context:prod-east': {
            list: {
              items: [
                ray('raycluster-train'),
                ray('raycluster-rbac', {
                  authMode: 'kubernetes',
                  tokenSource: { kind: 'kubernetes-identity' },
                }),
                ray('raycluster-old', {
                  authMode: 'none',
                  tokenSource: { kind: 'none' },
                  state: 'provisioning',
                }),
              ],
              searched: ['team-a'],
              errors: [],
            },
          },
        },
        connections: [connection('raycluster-rbac', { tokenExpiresAt: NOW + 52 * MIN })],
        injections: { 'context:prod-east/team-a/raycluster-rbac': { terminals: 2, kernels: 1 } },
      }),
    );
    const rays = vm.nodes[0]!.children;
    expect(rays.map((r) => [r.label, r.description, r.contextValue, r.actions])).toEqual([
      ['raycluster-old', 'no auth - provisioning', 'rayCluster.notReady', []],
      [
        'raycluster-rbac',
        'Kubernetes RBAC - ready - connected',
        'rayCluster.connected',
        ['rayConnect.openDashboard', 'rayConnect.copyEnv', 'rayConnect.disconnect'],
      ],
      ['raycluster-train', 'token auth - ready', 'rayCluster.ready', ['rayConnect.connect']],
    ]);
    const rbac = rays[1]!;
    expect(rbac.ref).toEqual({
      clusterId: 'context:prod-east',
      namespace: 'team-a',
      name: 'raycluster-rbac',
    });
    expect(rbac.children.map((c) => `${c.label} ${c.description}`)).toEqual([
      'Dashboard http://127.0.0.1:52813',
      'Ray Client ray://127.0.0.1:52814',
      'Env in 2 terminals, 1 kernel',
    ]);
    expect(injectionText({ terminals: 0, kernels: 3, skippedKernels: 2 })).toBe(
      'in 0 terminals, 3 kernels; 2 non-Python kernels get it on restart',
    );
    expect(rbac.tooltip).toContain('Ray token from: your Kubernetes token');
    expect(rbac.tooltip).toContain('Path: port-forward through the Kubernetes API server');
    expect(rays[2]!.tooltip).toContain('Ray token from: Secret raycluster-train key auth_token');
    // ids are unique
    const ids = flattenNodes(vm.nodes).map((n) => n.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('says when a connection takes the direct path (row and tooltip)', () => {
    const vm = buildViewModel(
      input({
        rayClusters: {
          'context:prod-east': {
            list: {
              items: [
                ray('raycluster-rbac', {
                  authMode: 'kubernetes',
                  tokenSource: { kind: 'kubernetes-identity' },
                }),
              ],
              searched: ['team-a'],
              errors: [],
            },
          },
        },
        connections: [
          connection('raycluster-rbac', { path: 'direct', dashboardUrl: 'http://10.1.2.3:8265' }),
        ],
      }),
    );
    const rbac = flattenNodes(vm.nodes).find((n) => n.label === 'raycluster-rbac')!;
    expect(rbac.description).toBe('Kubernetes RBAC - ready - connected (direct)');
    expect(rbac.tooltip).toContain('Path: direct to the head pod (no port-forward)');
  });

  it('groups by namespace when several are watched, and shows per-namespace errors', () => {
    const vm = buildViewModel(
      input({
        clusters: [cluster({ namespaces: ['team-a', 'team-b', 'team-c'] })],
        rayClusters: {
          'context:prod-east': {
            list: {
              items: [ray('r1'), ray('r2', { namespace: 'team-b' })],
              searched: ['team-a', 'team-b', 'team-c'],
              errors: [
                {
                  namespace: 'team-c',
                  error: {
                    code: 'ACCESS_DENIED',
                    message: 'forbidden',
                    fix: 'Ask for: list rayclusters.ray.io in team-c',
                  },
                },
              ],
            },
          },
        },
      }),
    );
    const children = vm.nodes[0]!.children;
    expect(children.map((c) => [c.kind, c.label])).toEqual([
      ['namespace', 'team-a'],
      ['namespace', 'team-b'],
      ['message', "Can't list Ray clusters in team-c"],
    ]);
    expect(children[2]!.description).toBe('Ask for: list rayclusters.ray.io in team-c');
  });

  it('no Ray clusters: names the namespaces searched and offers Choose namespaces', () => {
    const vm = buildViewModel(
      input({
        rayClusters: { 'context:prod-east': { list: { items: [], searched: ['team-a'], errors: [] } } },
      }),
    );
    const empty = vm.nodes[0]!.children[0]!;
    expect(empty.label).toBe('No Ray clusters in team-a');
    expect(empty.command).toEqual({ command: 'rayConnect.selectNamespaces', args: ['context:prod-east'] });
  });

  it('listing error, reconnecting and access denied', () => {
    const err = buildViewModel(
      input({
        rayClusters: { 'context:prod-east': { error: { code: 'CLUSTER_UNREACHABLE', message: 'refused' } } },
      }),
    );
    expect(err.nodes[0]!.children[0]).toMatchObject({ icon: 'error', description: 'refused' });
    const vm = buildViewModel(
      input({
        rayClusters: {
          'context:prod-east': { list: { items: [ray('a'), ray('b')], searched: ['team-a'], errors: [] } },
        },
        connections: [
          connection('a', { state: 'reconnecting' }),
          connection('b', { state: 'failed', error: { code: 'ACCESS_DENIED', message: 'no' } }),
        ],
      }),
    );
    const [a, b] = vm.nodes[0]!.children;
    expect(a).toMatchObject({
      state: 'reconnecting',
      icon: 'ray-reconnecting',
      contextValue: 'rayCluster.reconnecting',
    });
    expect(b).toMatchObject({
      state: 'access-denied',
      icon: 'ray-access-denied',
      actions: ['rayConnect.connect'],
    });
  });
});
