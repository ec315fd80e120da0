// Test data for the view model and status bar tests (not exported from index.ts).
import type { ClusterSummary, ConnectionSummary, RayClusterSummary } from './api.js';

export const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);
export const MIN = 60_000;

export function cluster(over: Partial<ClusterSummary> = {}): ClusterSummary {
  return {
    id: 'context:prod-east',
    name: 'prod-east',
    server: 'https://api.prod-east:6443',
    source: 'kubeconfig',
    file: '/home/alice/.kube/config',
    namespace: 'team-a',
    namespaces: ['team-a'],
    current: true,
    signIn: {
      status: 'signed-in',
      method: 'device',
      identity: { username: 'alice@example.com', groups: ['team-a'] },
      expiresAt: NOW + 52 * MIN,
    },
    storage: { kind: 'vscode-secret-storage', label: 'VS Code secret storage' },
    ...over,
  };
}

export function ray(name: string, over: Partial<RayClusterSummary> = {}): RayClusterSummary {
  return {
    clusterId: 'context:prod-east',
    namespace: 'team-a',
    name,
    state: 'ready',
    authMode: 'token',
    tokenSource: { kind: 'secret', secretName: name, key: 'auth_token' },
    ports: { dashboard: 8265, client: 10001 },
    warnings: [],
    ...over,
  };
}

export function connection(name: string, over: Partial<ConnectionSummary> = {}): ConnectionSummary {
  return {
    clusterId: 'context:prod-east',
    namespace: 'team-a',
    name,
    state: 'ready',
    path: 'forward',
    dashboardUrl: 'http://127.0.0.1:52813',
    clientAddress: 'ray://127.0.0.1:52814',
    authMode: 'kubernetes',
    tokenVersion: 1,
    since: NOW - MIN,
    ...over,
  };
}
