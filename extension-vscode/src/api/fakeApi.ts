import type {
  AccessCheck,
  AddClusterInput,
  ClusterSummary,
  ConnectionSummary,
  DisconnectResult,
  RayClusterList,
  RayClusterRef,
  RayClusterSummary,
  BrowserCallbackResult,
  RayConnectApi,
  RayConnectEvent,
  SessionEnv,
  SignInInput,
  SignInProgress,
  SignInState,
  SignOutResult,
  VersionInfo,
} from '@ray-connect/shared';
import { PROTOCOL_VERSION, sameRef } from '@ray-connect/shared';

class FakeError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly fix?: string,
  ) {
    super(message);
  }
}

/**
 * An in-memory RayConnectApi for unit tests and for running the extension without a cluster
 * (`RAY_CONNECT_FAKE=1`). One kubeconfig context "demo" with a Ray cluster per auth mode.
 */
export class FakeRayConnectApi implements RayConnectApi {
  readonly listeners = new Set<(e: RayConnectEvent) => void>();
  clusters: ClusterSummary[];
  rays: RayClusterSummary[];
  connections: ConnectionSummary[] = [];
  private pending = new Map<
    string,
    {
      clusterId: string;
      promise: Promise<SignInState>;
      resolve: (s: SignInState) => void;
      reject: (e: unknown) => void;
    }
  >();
  private tokenVersion = 1;
  private logins = 0;

  constructor(private readonly now: () => number = Date.now) {
    this.clusters = [
      {
        id: 'context:demo',
        name: 'demo',
        server: 'https://127.0.0.1:6443',
        source: 'kubeconfig',
        file: '~/.kube/config',
        namespace: 'team-a',
        namespaces: ['team-a'],
        current: true,
        signIn: { status: 'signed-out' },
        storage: { kind: 'vscode-secret-storage', label: 'VS Code secret storage' },
      },
    ];
    const base = {
      clusterId: 'context:demo',
      namespace: 'team-a',
      state: 'ready' as const,
      ports: { dashboard: 8265, client: 10001 },
      warnings: [],
    };
    this.rays = [
      {
        ...base,
        name: 'raycluster-token',
        authMode: 'token',
        tokenSource: { kind: 'secret', secretName: 'raycluster-token', key: 'auth_token' },
      },
      {
        ...base,
        name: 'raycluster-rbac',
        authMode: 'kubernetes',
        tokenSource: { kind: 'kubernetes-identity' },
      },
      { ...base, name: 'raycluster-noauth', authMode: 'none', tokenSource: { kind: 'none' } },
    ];
  }

  private emit(e: RayConnectEvent): void {
    for (const l of this.listeners) l(e);
  }

  private find(clusterId: string): ClusterSummary {
    const c = this.clusters.find((k) => k.id === clusterId);
    if (!c) throw new FakeError('CONTEXT_NOT_FOUND', `No cluster ${clusterId}.`);
    return c;
  }

  private signedIn(clusterId: string): ClusterSummary {
    const c = this.find(clusterId);
    if (c.signIn.status !== 'signed-in')
      throw new FakeError('SIGNED_OUT', `You are not signed in to ${c.name}.`);
    return c;
  }

  private setSignIn(c: ClusterSummary, state: SignInState): SignInState {
    c.signIn = state;
    this.emit({ type: 'sign-in-changed', clusterId: c.id, state });
    return state;
  }

  async version(): Promise<VersionInfo> {
    return { version: '0.0.0-fake', protocol: PROTOCOL_VERSION };
  }
  async listClusters(): Promise<ClusterSummary[]> {
    return this.clusters.map((c) => ({ ...c }));
  }
  async addCluster(input: AddClusterInput): Promise<ClusterSummary> {
    const c: ClusterSummary = {
      id: `url:${input.server}`,
      name: input.name ?? new URL(input.server).host,
      server: input.server,
      source: 'added',
      namespace: input.namespace ?? 'default',
      namespaces: [input.namespace ?? 'default'],
      current: false,
      signIn: { status: 'signed-out' },
      storage: { kind: 'memory', label: 'memory only' },
    };
    this.clusters.push(c);
    this.emit({ type: 'clusters-changed' });
    return c;
  }
  async removeCluster(clusterId: string): Promise<void> {
    this.clusters = this.clusters.filter((c) => c.id !== clusterId);
  }
  async beginSignIn(clusterId: string, input: SignInInput): Promise<SignInProgress> {
    const c = this.find(clusterId);
    const ok = (method: SignInState['method'], username: string): SignInState => ({
      status: 'signed-in',
      method,
      identity: { username, groups: ['team-a'] },
      expiresAt: this.now() + 60 * 60_000,
    });
    if (input.method === 'token') {
      if (input.token === 'bad')
        throw new FakeError(
          'TOKEN_INVALID',
          `The API server of ${c.name} rejected the token (401).`,
          'Create a new token and paste it again.',
        );
      return { kind: 'done', state: this.setSignIn(c, ok('token', 'system:serviceaccount:team-a:demo')) };
    }
    if (input.method === 'kubeconfig' || input.method === 'in-cluster')
      return { kind: 'done', state: this.setSignIn(c, ok(input.method, 'alice')) };
    const loginId = `login-${++this.logins}`;
    let resolve: (s: SignInState) => void = () => undefined;
    let reject: (e: unknown) => void = () => undefined;
    const promise = new Promise<SignInState>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    promise.catch(() => undefined);
    this.pending.set(loginId, { clusterId, promise, resolve, reject });
    if (input.method === 'device') {
      return {
        kind: 'device',
        loginId,
        userCode: 'WDJB-MJHT',
        verificationUri: 'https://127.0.0.1:5556/device',
        expiresAt: this.now() + 10 * 60_000,
        intervalSeconds: 5,
      };
    }
    return { kind: 'browser', loginId, url: 'https://127.0.0.1:5556/auth?client_id=kubernetes' };
  }
  /** Test hook: the user approved the device code / finished the browser flow. */
  approve(loginId: string, username = 'alice@example.com'): void {
    const p = this.pending.get(loginId);
    if (!p) return;
    p.resolve(
      this.setSignIn(this.find(p.clusterId), {
        status: 'signed-in',
        method: 'device',
        identity: { username, groups: [] },
        expiresAt: this.now() + 60 * 60_000,
      }),
    );
  }
  async completeSignIn(loginId: string): Promise<SignInState> {
    const p = this.pending.get(loginId);
    if (!p) throw new FakeError('LOGIN_NOT_FOUND', `Unknown login ${loginId}.`);
    return p.promise;
  }
  async finishBrowserSignIn(_callbackUrl: string, loginId?: string): Promise<BrowserCallbackResult> {
    const p = loginId !== undefined ? this.pending.get(loginId) : undefined;
    if (!p || loginId === undefined)
      throw new FakeError('LOGIN_NOT_FOUND', 'No sign-in matches this callback.');
    this.approve(loginId);
    const c = this.find(p.clusterId);
    return { clusterId: c.id, clusterName: c.name, state: await p.promise };
  }
  async cancelSignIn(loginId: string): Promise<void> {
    const p = this.pending.get(loginId);
    this.pending.delete(loginId);
    p?.reject(new FakeError('LOGIN_CANCELLED', 'Sign-in cancelled.'));
  }
  async signOut(clusterId: string): Promise<SignOutResult> {
    const c = this.find(clusterId);
    const removed: string[] = [];
    for (const k of this.connections.filter((x) => x.clusterId === clusterId))
      removed.push(...(await this.disconnect(k)).removed);
    this.setSignIn(c, { status: 'signed-out' });
    removed.push('credentials (VS Code secret storage)');
    return { removed };
  }
  async setNamespaces(clusterId: string, namespaces: string[]): Promise<ClusterSummary> {
    const c = this.find(clusterId);
    c.namespaces = namespaces;
    return { ...c };
  }
  async listRayClusters(clusterId: string): Promise<RayClusterList> {
    const c = this.signedIn(clusterId);
    const items = this.rays.filter((r) => r.clusterId === clusterId && c.namespaces.includes(r.namespace));
    return { items: items.map((r) => ({ ...r })), searched: c.namespaces, errors: [] };
  }
  async checkAccess(ref: RayClusterRef): Promise<AccessCheck> {
    this.signedIn(ref.clusterId);
    return { allowed: true, checked: [`get rayclusters/${ref.name}`] };
  }
  async connect(ref: RayClusterRef): Promise<ConnectionSummary> {
    this.signedIn(ref.clusterId);
    const ray = this.rays.find((r) => sameRef(r, ref));
    if (!ray) throw new FakeError('RAYCLUSTER_NOT_FOUND', `No Ray cluster ${ref.name} in ${ref.namespace}.`);
    const port = 52800 + this.connections.length * 2;
    const c: ConnectionSummary = {
      ...ref,
      state: 'ready',
      path: 'forward',
      dashboardUrl: `http://127.0.0.1:${port}`,
      clientAddress: `ray://127.0.0.1:${port + 1}`,
      authMode: ray.authMode,
      tokenVersion: this.tokenVersion,
      since: this.now(),
    };
    this.connections = [...this.connections.filter((k) => !sameRef(k, ref)), c];
    this.emit({ type: 'connection-changed', connection: c });
    return c;
  }
  async disconnect(ref: RayClusterRef): Promise<DisconnectResult> {
    const had = this.connections.some((k) => sameRef(k, ref));
    this.connections = this.connections.filter((k) => !sameRef(k, ref));
    if (had)
      this.emit({
        type: 'connection-changed',
        connection: {
          ...ref,
          state: 'disconnected',
          path: 'forward',
          authMode: 'unknown',
          tokenVersion: 0,
          since: this.now(),
        },
      });
    return { removed: had ? [`port-forward of ${ref.name}`] : [] };
  }
  async listConnections(): Promise<ConnectionSummary[]> {
    return [...this.connections];
  }
  async sessionEnv(ref: RayClusterRef): Promise<SessionEnv> {
    const c = this.connections.find((k) => sameRef(k, ref));
    if (!c) throw new FakeError('RAY_UNREACHABLE', `Not connected to ${ref.name}.`);
    const env: Record<string, string> = { RAY_ADDRESS: c.dashboardUrl ?? '' };
    if (c.authMode === 'none') env.RAY_AUTH_MODE = 'disabled';
    else {
      env.RAY_AUTH_MODE = 'token';
      env.RAY_AUTH_TOKEN = `fake-ray-token-${ref.name}-v${this.tokenVersion}`;
    }
    return { env, tokenVersion: this.tokenVersion };
  }
  async rayToken(ref: RayClusterRef): Promise<{ token: string; expiresAt?: number }> {
    return { token: (await this.sessionEnv(ref)).env.RAY_AUTH_TOKEN ?? '' };
  }
  /** Test hook: the token rotated. */
  rotate(ref: RayClusterRef): void {
    this.tokenVersion++;
    this.emit({ type: 'token-rotated', ref, tokenVersion: this.tokenVersion });
  }
  onEvent(listener: (event: RayConnectEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
