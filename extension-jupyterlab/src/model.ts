import { Signal, type ISignal } from '@lumino/signaling';
import {
  buildStatusBar,
  buildViewModel,
  serverBackNotice,
  serverLostNotice,
  toErrorInfo,
  type ClusterSummary,
  type ConnectionSummary,
  type ErrorInfo,
  type InjectionCounts,
  type RayClustersEntry,
  type StatusBarModel,
  type Translate,
  type ViewModel,
} from '@ray-connect/shared';
import { LivenessMonitor, lostInOutage, type LostReason } from './liveness.js';
import {
  call,
  openEventStream,
  probeServer,
  RayConnectRequestError,
  requestAPI,
  type ServerEvent,
  type ServerInfo,
} from './request.js';
import { VERSION } from './version.js';

/** What the panel and status bar show: plain data from the agent, refreshed on its events. */
export class RayModel {
  clusters: ClusterSummary[] = [];
  rayClusters: Record<string, RayClustersEntry | undefined> = {};
  connections: ConnectionSummary[] = [];
  injections: Record<string, InjectionCounts> = {};
  server: ServerInfo | undefined;
  /** Handshake or agent failure: shown instead of the tree. */
  fatal: ErrorInfo | undefined;
  loading = true;
  logs: string[] = [];
  /**
   * What happened to the connection behind the panel, shown above the tree: the Jupyter server is unreachable
   * (`lost`), or the agent or the server restarted and sign-ins kept in memory are gone (`restarted`).
   */
  notice: { kind: 'lost' | 'restarted'; message: string } | undefined;
  /** What the panel showed when the server was lost: compared with the reloaded state when it is back. */
  private _beforeLoss: { connections: ConnectionSummary[]; signedIn: Set<string> } | undefined;
  private _monitor: LivenessMonitor | undefined;
  private _seenLive = false;
  private readonly _reconnected = new Signal<this, void>(this);
  /** A sign-in-changed event came since the last load (a sign-in that went away was the user's doing). */
  private _signInEvent = false;
  /** Sign-ins a load saw go away unexplained (the agent restarted); named by the restart notice. */
  private readonly _droppedSignIns = new Set<string>();

  private readonly _changed = new Signal<this, void>(this);
  private readonly _event = new Signal<this, ServerEvent>(this);
  private _refreshing: Promise<void> | undefined;
  private _again = false;

  /** Namespaces to search in every cluster (setting rayConnect.namespaces); empty: each cluster's own choice. */
  namespaces: string[] = [];

  constructor(private readonly t: Translate) {}

  get changed(): ISignal<this, void> {
    return this._changed;
  }
  get event(): ISignal<this, ServerEvent> {
    return this._event;
  }
  /** The server answers again after a loss and the state is reloaded: hosts re-send what the server must know. */
  get reconnected(): ISignal<this, void> {
    return this._reconnected;
  }
  /** The Jupyter server is not reachable: the panel shows stale state and offers no action. */
  get serverLost(): boolean {
    return this._beforeLoss !== undefined;
  }

  /** Version handshake, then the first load and the event stream. */
  async start(): Promise<void> {
    try {
      this.server = await requestAPI<ServerInfo>(`version?frontend=${encodeURIComponent(VERSION)}`);
      this.fatal = undefined;
    } catch (error) {
      this.fatal = toErrorInfo((error as { info?: ErrorInfo }).info ?? error);
      this.loading = false;
      this._changed.emit();
      throw error;
    }
    this._monitor = new LivenessMonitor(
      { open: openEventStream, probe: probeServer },
      {
        onEvent: (e) => this.onEvent(e as ServerEvent),
        onLive: (info) => void this.live(info.wasLost, info.serverId !== info.previousServerId),
        onLost: (reason) => this.lost(reason),
        onBlip: (reason) => this.log(`info: the event stream ${reason}; the server answers: reopened`),
      },
    );
    void this._monitor.run();
    await this.refresh();
  }

  /** Said at once: the panel and the status bar show it, actions stop (see `serverLost`). */
  private lost(reason: LostReason): void {
    this.log(
      `warning: the Jupyter server is not reachable (${
        reason === 'silent' ? 'no heartbeat on the event stream' : `the event stream ${reason}`
      }); retrying`,
    );
    this._beforeLoss = {
      connections: this.connections,
      signedIn: new Set(this.clusters.filter((c) => c.signIn.status === 'signed-in').map((c) => c.id)),
    };
    this.notice = { kind: 'lost', message: serverLostNotice(this.t) };
    this._changed.emit();
  }

  /**
   * The event stream is open: the first time, or again after a blip (reload what may have been missed), or after a
   * loss: reload clusters, sign-ins and connections, and say what the (possibly new) server no longer has.
   */
  private async live(wasLost: boolean, newServer: boolean): Promise<void> {
    const before = this._beforeLoss;
    if (!wasLost || !before) {
      if (this._seenLive) await this.refresh(); // the first time, start() loads
      this._seenLive = true;
      return;
    }
    this._beforeLoss = undefined;
    if (this.notice?.kind === 'lost') this.notice = undefined;
    this.log(`info: the Jupyter server answers again (${newServer ? 'a new server' : 'the same server'})`);
    await this.freshLoad();
    for (const id of this._droppedSignIns) before.signedIn.add(id);
    this._droppedSignIns.clear();
    const { lostConnections, lostSignIns } = lostInOutage(before, this);
    const message = serverBackNotice({ newServer, lostConnections, lostSignIns, t: this.t });
    if (message) this.notice = { kind: 'restarted', message };
    this._changed.emit();
    this._reconnected.emit();
  }

  /**
   * Reloads everything and says what happened (`always`, or when a sign-in or a connection is gone: a mere reconnect
   * of the event stream stays quiet); names the clusters whose sign-in is gone (kept in memory only).
   */
  private async reloadAfterRestart(what: string, always = true): Promise<void> {
    const before = new Set(this.clusters.filter((c) => c.signIn.status === 'signed-in').map((c) => c.id));
    for (const id of this._droppedSignIns) before.add(id);
    this._droppedSignIns.clear();
    const connectionsBefore = this.connections.length;
    await this.freshLoad();
    const gone = this.clusters.filter((c) => before.has(c.id) && c.signIn.status !== 'signed-in');
    if (gone.length || always || this.connections.length < connectionsBefore) {
      const again = gone.length
        ? ' ' +
          this.t(
            'Sign in again to {0}: its secrets were kept in memory only.',
            gone.map((c) => c.name).join(', '),
          )
        : '';
      this.notice = { kind: 'restarted', message: what + again };
    }
    this._changed.emit();
  }

  dismissNotice(): void {
    this.notice = undefined;
    this._changed.emit();
  }

  dispose(): void {
    this._monitor?.stop();
  }

  log(line: string): void {
    this.logs.push(`${new Date().toISOString()} ${line}`);
    if (this.logs.length > 500) this.logs.shift();
  }

  private onEvent(event: ServerEvent): void {
    switch (event.type) {
      case 'log':
        this.log(`${event.level}: ${event.message}`);
        break;
      case 'agent-error':
        this.fatal = event.error;
        this._changed.emit();
        break;
      case 'agent-restarted':
        this.log(`warning: the Ray Connect agent exited (code ${event.exitCode}) and was restarted`);
        this.connections = [];
        void this.reloadAfterRestart(
          this.t(
            'The Ray Connect agent stopped (exit code {0}) and was restarted; its connections were closed.',
            String(event.exitCode),
          ),
        );
        break;
      case 'connection-changed': {
        const others = this.connections.filter(
          (c) =>
            !(
              c.clusterId === event.connection.clusterId &&
              c.namespace === event.connection.namespace &&
              c.name === event.connection.name
            ),
        );
        this.connections = event.connection.state === 'disconnected' ? others : [...others, event.connection];
        this._changed.emit();
        break;
      }
      case 'clusters-changed':
      case 'sign-in-changed':
        this._signInEvent = true;
        void this.refresh();
        break;
      case 'ray-clusters-changed':
        void this.refresh();
        break;
      default:
        break;
    }
    this._event.emit(event);
  }

  /**
   * A load that starts after this call: a load in flight may have read the agent before what the caller is about
   * (an agent restart, a new server), so wait for it and load again.
   */
  private async freshLoad(): Promise<void> {
    if (this._refreshing) await this._refreshing.catch(() => undefined);
    await this.refresh();
  }

  /**
   * Reloads clusters, connections and the Ray clusters of signed-in clusters. Coalesces overlapping calls. While the
   * server is lost: asks it now instead of waiting out the backoff.
   */
  refresh(): Promise<void> {
    if (this.serverLost) {
      this._monitor?.retryNow();
      return Promise.resolve();
    }
    if (this._refreshing) {
      this._again = true;
      return this._refreshing;
    }
    this._refreshing = this.load().finally(() => {
      this._refreshing = undefined;
      if (this._again) {
        this._again = false;
        void this.refresh();
      }
    });
    return this._refreshing;
  }

  private async load(): Promise<void> {
    try {
      const explained = this._signInEvent;
      this._signInEvent = false;
      const [clusters, connections] = await Promise.all([call('listClusters'), call('listConnections')]);
      // A sign-in gone with no sign-in-changed event: the agent restarted (this load may come before its event).
      if (!explained)
        for (const c of this.clusters)
          if (
            c.signIn.status === 'signed-in' &&
            clusters.find((n) => n.id === c.id)?.signIn.status !== 'signed-in'
          )
            this._droppedSignIns.add(c.id);
      this.clusters = clusters;
      this.connections = connections;
      this.fatal = undefined;
      const signedIn = clusters.filter((c) => c.signIn.status === 'signed-in');
      const next: Record<string, RayClustersEntry | undefined> = {};
      for (const c of signedIn) next[c.id] = this.rayClusters[c.id] ?? { loading: true };
      this.rayClusters = next;
      this.loading = false;
      this._changed.emit();
      await Promise.all(
        signedIn.map(async (c) => {
          try {
            const list = this.namespaces.length
              ? await call('listRayClusters', c.id, this.namespaces)
              : await call('listRayClusters', c.id);
            this.rayClusters[c.id] = { list };
          } catch (error) {
            // The server went away during this load (no HTTP answer at all): keep the last list on show; the
            // liveness monitor says the server is lost and reloads when it answers.
            const unanswered = error instanceof RayConnectRequestError && error.status === 0;
            const last = this.rayClusters[c.id]; // still what was shown before this load
            if (unanswered && last && 'list' in last) return;
            this.rayClusters[c.id] = { error: toErrorInfo((error as { info?: ErrorInfo }).info ?? error) };
          }
          this._changed.emit();
        }),
      );
    } catch (error) {
      // While the server is lost the notice says so; the last state stays on show (without actions).
      // So does a load the server did not answer at all (it went away during it: the monitor will say so).
      const unanswered = error instanceof RayConnectRequestError && error.status === 0;
      if (!this.serverLost && !(unanswered && this.clusters.length))
        this.fatal = toErrorInfo((error as { info?: ErrorInfo }).info ?? error);
      this.loading = false;
      this._changed.emit();
    }
  }

  viewModel(): ViewModel {
    return buildViewModel({
      clusters: this.clusters,
      rayClusters: this.rayClusters,
      connections: this.connections,
      injections: this.injections,
      now: Date.now(),
      t: this.t,
    });
  }

  statusBar(): StatusBarModel {
    return buildStatusBar({
      clusters: this.clusters,
      connections: this.connections,
      now: Date.now(),
      serverLost: this.serverLost,
      t: this.t,
    });
  }

  cluster(id: string): ClusterSummary | undefined {
    return this.clusters.find((c) => c.id === id);
  }

  notify(): void {
    this._changed.emit();
  }
}
