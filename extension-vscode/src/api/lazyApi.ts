import type {
  AddClusterInput,
  ConnectOptions,
  RayClusterRef,
  RayConnectApi,
  RayConnectEvent,
  SignInInput,
} from '@ray-connect/shared';

/**
 * The RayConnectApi the views and commands hold from the first millisecond, while the real one (the core and its
 * protocol libraries, dist/core.js) is loaded after activate() returned. Every call waits for the load; event
 * listeners registered before it are attached once it is there. A failed load is tried again by the next call
 * (the error toast's Retry).
 */
export class LazyApi implements RayConnectApi {
  private real: RayConnectApi | undefined;
  private loading: Promise<RayConnectApi> | undefined;
  private readonly listeners = new Set<(event: RayConnectEvent) => void>();

  constructor(private readonly load: () => Promise<RayConnectApi>) {}

  /** Whether the real API is loaded (nothing heavy has run before). */
  get loaded(): boolean {
    return this.real !== undefined;
  }

  /** The real API, loading it on first need. */
  get(): Promise<RayConnectApi> {
    if (this.real) return Promise.resolve(this.real);
    this.loading ??= this.load().then(
      (api) => {
        this.real = api;
        api.onEvent((event) => {
          for (const l of [...this.listeners]) l(event);
        });
        return api;
      },
      (e: unknown) => {
        this.loading = undefined;
        throw e;
      },
    );
    return this.loading;
  }

  onEvent(listener: (event: RayConnectEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  version() {
    return this.get().then((a) => a.version());
  }
  listClusters() {
    return this.get().then((a) => a.listClusters());
  }
  addCluster(input: AddClusterInput) {
    return this.get().then((a) => a.addCluster(input));
  }
  removeCluster(clusterId: string) {
    return this.get().then((a) => a.removeCluster(clusterId));
  }
  beginSignIn(clusterId: string, input: SignInInput) {
    return this.get().then((a) => a.beginSignIn(clusterId, input));
  }
  completeSignIn(loginId: string) {
    return this.get().then((a) => a.completeSignIn(loginId));
  }
  finishBrowserSignIn(callbackUrl: string, loginId?: string) {
    return this.get().then((a) => a.finishBrowserSignIn(callbackUrl, loginId));
  }
  cancelSignIn(loginId: string) {
    return this.get().then((a) => a.cancelSignIn(loginId));
  }
  signOut(clusterId: string) {
    return this.get().then((a) => a.signOut(clusterId));
  }
  setNamespaces(clusterId: string, namespaces: string[]) {
    return this.get().then((a) => a.setNamespaces(clusterId, namespaces));
  }
  listRayClusters(clusterId: string, namespaces?: string[]) {
    return this.get().then((a) =>
      namespaces === undefined ? a.listRayClusters(clusterId) : a.listRayClusters(clusterId, namespaces),
    );
  }
  checkAccess(ref: RayClusterRef) {
    return this.get().then((a) => a.checkAccess(ref));
  }
  connect(ref: RayClusterRef, options?: ConnectOptions) {
    return this.get().then((a) => (options === undefined ? a.connect(ref) : a.connect(ref, options)));
  }
  disconnect(ref: RayClusterRef) {
    return this.get().then((a) => a.disconnect(ref));
  }
  listConnections() {
    return this.get().then((a) => a.listConnections());
  }
  sessionEnv(ref: RayClusterRef) {
    return this.get().then((a) => a.sessionEnv(ref));
  }
  rayToken(ref: RayClusterRef) {
    return this.get().then((a) => a.rayToken(ref));
  }
}
