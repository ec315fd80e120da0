import type {
  ClusterSummary,
  ConnectionSummary,
  RayConnectApi,
  RayConnectEvent,
  RayClustersEntry,
} from '@ray-connect/shared';
import { clusterState, sameRef, toErrorInfo } from '@ray-connect/shared';
import type { Logger } from '@ray-connect/core';

/**
 * What the views show: clusters, their Ray clusters and the connections, kept fresh from the API's events.
 * No vscode import: the tree and the status bar subscribe with onDidChange.
 */
export class Store {
  clusters: ClusterSummary[] = [];
  rayClusters: Record<string, RayClustersEntry | undefined> = {};
  connections: ConnectionSummary[] = [];
  loaded = false;
  loadError: unknown;
  private readonly listeners = new Set<() => void>();
  private unsubscribe: (() => void) | undefined;
  private generation = new Map<string, number>();

  constructor(
    private readonly api: RayConnectApi,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  onDidChange(listener: () => void): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }

  start(onEvent?: (event: RayConnectEvent) => void): void {
    this.unsubscribe = this.api.onEvent((event) => {
      this.handle(event);
      onEvent?.(event);
    });
  }

  dispose(): void {
    this.unsubscribe?.();
    this.listeners.clear();
  }

  cluster(id: string): ClusterSummary | undefined {
    return this.clusters.find((c) => c.id === id);
  }

  isSignedIn(c: ClusterSummary): boolean {
    const s = clusterState(c, this.now());
    return s === 'signed-in' || s === 'expiring-soon';
  }

  anySignedIn(): boolean {
    return this.clusters.some((c) => this.isSignedIn(c));
  }

  liveConnections(): ConnectionSummary[] {
    return this.connections.filter((c) => c.state !== 'disconnected');
  }

  async refresh(): Promise<void> {
    try {
      const [clusters, connections] = await Promise.all([
        this.api.listClusters(),
        this.api.listConnections(),
      ]);
      this.clusters = clusters;
      this.connections = connections;
      this.loadError = undefined;
    } catch (e) {
      this.loadError = e;
      this.log.error('listing clusters failed', { error: toErrorInfo(e) });
      throw e;
    } finally {
      this.loaded = true;
      this.changed();
    }
    await Promise.all(
      this.clusters.filter((c) => this.isSignedIn(c)).map((c) => this.refreshRayClusters(c.id)),
    );
  }

  async refreshCluster(id: string): Promise<void> {
    const clusters = await this.api.listClusters();
    this.clusters = clusters;
    this.changed();
    const c = this.cluster(id);
    if (c && this.isSignedIn(c)) await this.refreshRayClusters(id);
  }

  async refreshRayClusters(id: string): Promise<void> {
    const gen = (this.generation.get(id) ?? 0) + 1;
    this.generation.set(id, gen);
    if (!this.rayClusters[id] || 'error' in this.rayClusters[id]) {
      this.rayClusters[id] = { loading: true };
      this.changed();
    }
    let entry: RayClustersEntry;
    try {
      entry = { list: await this.api.listRayClusters(id) };
    } catch (e) {
      entry = { error: toErrorInfo(e) };
      this.log.warn('listing Ray clusters failed', { clusterId: id, error: entry.error });
    }
    if (this.generation.get(id) !== gen) return; // a newer refresh won
    this.rayClusters[id] = entry;
    this.changed();
  }

  private handle(event: RayConnectEvent): void {
    switch (event.type) {
      case 'clusters-changed':
        void this.refresh().catch(() => undefined);
        break;
      case 'sign-in-changed': {
        const c = this.cluster(event.clusterId);
        if (c) c.signIn = event.state;
        if (event.state.status === 'signed-in') void this.refreshRayClusters(event.clusterId);
        else delete this.rayClusters[event.clusterId];
        this.changed();
        break;
      }
      case 'ray-clusters-changed':
        void this.refreshRayClusters(event.clusterId);
        break;
      case 'connection-changed': {
        const i = this.connections.findIndex((c) => sameRef(c, event.connection));
        if (event.connection.state === 'disconnected') {
          if (i >= 0) this.connections.splice(i, 1);
        } else if (i >= 0) this.connections[i] = event.connection;
        else this.connections.push(event.connection);
        this.changed();
        break;
      }
      case 'log': {
        const level = event.level;
        this.log[level](event.message);
        break;
      }
      default:
        break;
    }
  }
}
