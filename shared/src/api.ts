import type { ErrorInfo } from './errors.js';

/**
 * The one API of Ray Connect, as the editors see it. The core implements it (`createRayConnect` in
 * @ray-connect/core); VS Code calls it in-process; the agent (`ray-connect serve`) serves it over HTTP for
 * JupyterLab and the CLI, with the same names and shapes (see protocol.ts). Every type here is plain JSON and
 * holds no secret, except the results of `rayToken` and `sessionEnv`, which exist to hand a secret to the user.
 */
export interface RayConnectApi {
  version(): Promise<VersionInfo>;

  // clusters and sign-in
  listClusters(): Promise<ClusterSummary[]>;
  addCluster(input: AddClusterInput): Promise<ClusterSummary>;
  removeCluster(clusterId: string): Promise<void>;
  beginSignIn(clusterId: string, input: SignInInput): Promise<SignInProgress>;
  /** Waits until the flow started by beginSignIn ends (device approved, browser redirect received). */
  completeSignIn(loginId: string): Promise<SignInState>;
  /**
   * Hands the provider's redirect to a browser sign-in started with a `redirectUri` that is not loopback (the
   * Jupyter server's `<base_url>ray-connect/oauth/callback`). `callbackUrl` is the URL the browser was sent to
   * (only its query is used: code, state, iss or error). The flow is the one whose `state` it carries; with
   * `loginId`, that flow must match. Resolves once the sign-in is stored, as completeSignIn does; errors:
   * LOGIN_NOT_FOUND (no such flow: finished, expired, cancelled), LOGIN_STATE_MISMATCH (not this flow's answer),
   * LOGIN_CANCELLED (access_denied), IDP_ERROR.
   */
  finishBrowserSignIn(callbackUrl: string, loginId?: string): Promise<BrowserCallbackResult>;
  cancelSignIn(loginId: string): Promise<void>;
  signOut(clusterId: string): Promise<SignOutResult>;
  setNamespaces(clusterId: string, namespaces: string[]): Promise<ClusterSummary>;

  // Ray clusters
  /** RayClusters in the cluster's chosen namespaces, or in `namespaces` when given (not saved). */
  listRayClusters(clusterId: string, namespaces?: string[]): Promise<RayClusterList>;
  checkAccess(ref: RayClusterRef): Promise<AccessCheck>;
  connect(ref: RayClusterRef, options?: ConnectOptions): Promise<ConnectionSummary>;
  disconnect(ref: RayClusterRef): Promise<DisconnectResult>;
  listConnections(): Promise<ConnectionSummary[]>;
  /** The env to inject: RAY_AUTH_MODE, RAY_AUTH_TOKEN (or _PATH), RAY_ADDRESS. Holds the token. */
  sessionEnv(ref: RayClusterRef): Promise<SessionEnv>;
  /** The Ray token itself ("Copy token"). */
  rayToken(ref: RayClusterRef): Promise<{ token: string; expiresAt?: number }>;

  /** State changes, for trees and status bars. Returns an unsubscribe function. */
  onEvent(listener: (event: RayConnectEvent) => void): () => void;
}

export interface VersionInfo {
  /** Package version of the core / agent. */
  version: string;
  /** Bumped when the HTTP protocol changes incompatibly; hosts refuse a different major. */
  protocol: number;
}

export type SignInMethod = 'kubeconfig' | 'device' | 'browser' | 'openshift' | 'token' | 'in-cluster';

export interface SecretStorageInfo {
  kind: 'os-keychain' | 'vscode-secret-storage' | 'memory' | 'file';
  /** e.g. "OS keychain (Secret Service)", "memory only: lost when the agent stops" */
  label: string;
  degradedReason?: string;
}

export interface ClusterSummary {
  /** Stable id: `context:<kubeconfig context>`, `url:<server>` or `in-cluster`. */
  id: string;
  /** Display name: the context name, or the host of an added server. */
  name: string;
  server: string;
  source: 'kubeconfig' | 'added' | 'in-cluster';
  /** The kubeconfig file it came from (kubeconfig clusters). */
  file?: string;
  /** Default namespace (context namespace, or `default`). */
  namespace: string;
  /** Namespaces searched for Ray clusters (the user's choice; default: [namespace]). */
  namespaces: string[];
  current: boolean;
  signIn: SignInState;
  storage: SecretStorageInfo;
}

export interface SignInState {
  status: 'signed-in' | 'signed-out' | 'expired' | 'error';
  method?: SignInMethod;
  identity?: { username: string; groups: string[] };
  /** Epoch ms when the current credential expires, if known. */
  expiresAt?: number;
  error?: ErrorInfo;
}

export interface AddClusterInput {
  server: string;
  name?: string;
  /** PEM file of the CA that signed the API server certificate. */
  caFile?: string;
  /** Security risk: skips TLS verification. A named opt-in only. */
  insecureSkipTlsVerify?: boolean;
  namespace?: string;
}

export type SignInInput =
  | { method: 'kubeconfig' }
  | { method: 'in-cluster' }
  | { method: 'token'; token: string }
  | { method: 'device'; issuer?: string; clientId?: string; scopes?: string[] }
  | {
      method: 'browser';
      issuer?: string;
      clientId?: string;
      scopes?: string[];
      /**
       * Where the provider sends the browser back, when not the core's own loopback listener (e.g. the Jupyter
       * server's callback page): no listener is opened and the host delivers the redirect with
       * finishBrowserSignIn. The provider's client must list it.
       */
      redirectUri?: string;
    }
  | { method: 'openshift'; redirectUri?: string };

export interface BrowserCallbackResult {
  clusterId: string;
  /** Display name of the cluster, for the callback page ("Signed in to <cluster>"). */
  clusterName: string;
  state: SignInState;
}

export type SignInProgress =
  | { kind: 'done'; state: SignInState }
  | {
      kind: 'device';
      loginId: string;
      userCode: string;
      verificationUri: string;
      verificationUriComplete?: string;
      /** Epoch ms when the code expires. */
      expiresAt: number;
      intervalSeconds: number;
    }
  | {
      kind: 'browser';
      loginId: string;
      /** Open this in the user's browser; the loopback listener waits for the redirect. */
      url: string;
      /**
       * OpenShift: the "display token" page, for when the browser cannot come back to the loopback listener
       * (remote sessions): the user gets a token there and pastes it (sign in with a token).
       */
      tokenRequestUrl?: string;
    };

export interface SignOutResult {
  /** What was removed, in words: "refresh token (OS keychain)", "connection raycluster-rbac". */
  removed: string[];
}

export interface RayClusterRef {
  clusterId: string;
  namespace: string;
  name: string;
}

export type RayAuthMode = 'token' | 'kubernetes' | 'none' | 'unknown';

export type RayTokenSource =
  | { kind: 'secret'; secretName: string; key: string }
  | { kind: 'kubernetes-identity' }
  | { kind: 'head-env-literal' }
  | { kind: 'head-env-file'; path: string }
  | { kind: 'none' };

export interface RayClusterSummary extends RayClusterRef {
  state: 'ready' | 'provisioning' | 'failed' | 'suspended' | 'unknown';
  stateReason?: string;
  authMode: RayAuthMode;
  tokenSource: RayTokenSource;
  rayVersion?: string;
  headPod?: string;
  headService?: string;
  /** Named container ports of the head: dashboard, client, gcs-server, serve, metrics. */
  ports: Record<string, number>;
  /** Set when an OpenShift AI proxy fronts the dashboard: connect uses this URL with the user's token. */
  frontedBy?: { kind: 'openshift-route' | 'odh-httproute'; url: string };
  /** Diagnostics worth showing (e.g. KubeRay <= 1.5 without RAY_CLUSTER_NAMESPACE in RBAC mode). */
  warnings: string[];
  connection?: ConnectionSummary;
}

export interface RayClusterList {
  items: RayClusterSummary[];
  /** Namespaces that were searched, for the empty state. */
  searched: string[];
  /** Per-namespace failures (e.g. no permission to list rayclusters there). */
  errors: { namespace: string; error: ErrorInfo }[];
}

export interface AccessCheck {
  allowed: boolean;
  /** What was checked, e.g. "get secrets/raycluster-token", "ray:write on rayclusters/raycluster-rbac". */
  checked: string[];
  /** When not allowed: the error with the exact RBAC to ask for. */
  error?: ErrorInfo;
}

export interface ConnectOptions {
  /** Fixed local ports; 0 or absent = a free port. */
  dashboardPort?: number;
  clientPort?: number;
  /**
   * Hand the token to sessions as RAY_AUTH_TOKEN_PATH (a 0600 file rewritten on refresh) instead of RAY_AUTH_TOKEN.
   * Default: on for Kubernetes RBAC mode with an expiring token, off otherwise.
   */
  tokenFile?: boolean;
  /**
   * How to reach the head (default: the RAY_CONNECT_PATH setting, else `auto`): `direct` = the head pod's IP, no
   * port-forward; `forward` = a port-forward through the API server; `auto` = direct where the pod IP can be reached
   * (in a pod, or the pod IP on this host's network) and answers within a short deadline, else the forward.
   */
  path?: ConnectPathSetting;
}

export type ConnectPathSetting = 'auto' | 'direct' | 'forward';

/** The path in use: a port-forward through the API server, the head pod's IP directly, or an OpenShift AI proxy. */
export type ConnectionPath = 'forward' | 'direct' | 'fronted';

export interface ConnectionSummary extends RayClusterRef {
  state: 'connecting' | 'ready' | 'reconnecting' | 'failed' | 'disconnected';
  /** How the head is reached. */
  path: ConnectionPath;
  /** http://127.0.0.1:<port> (the forwarded dashboard), http://<head pod IP>:<port> (direct), or the route URL. */
  dashboardUrl?: string;
  /** ray://127.0.0.1:<port> (forward) or ray://<head pod IP>:<port> (direct) for Ray Client. */
  clientAddress?: string;
  authMode: RayAuthMode;
  /** Expiry of the Ray token (RBAC mode: the user's Kubernetes token), epoch ms. */
  tokenExpiresAt?: number;
  /** Changes when the env changes (token rotated, direct head address moved), so hosts re-inject env. Not the token. */
  tokenVersion: number;
  error?: ErrorInfo;
  /** Epoch ms of the last state change. */
  since: number;
}

export interface DisconnectResult {
  removed: string[];
}

export interface SessionEnv {
  /** RAY_AUTH_MODE, RAY_AUTH_TOKEN or RAY_AUTH_TOKEN_PATH, RAY_ADDRESS (http://127.0.0.1:<dashboard>). */
  env: Record<string, string>;
  /** ray://127.0.0.1:<client> for users who want Ray Client (not put in RAY_ADDRESS). */
  rayClientAddress?: string;
  tokenVersion: number;
  tokenExpiresAt?: number;
}

export type RayConnectEvent =
  | { type: 'clusters-changed' }
  | { type: 'sign-in-changed'; clusterId: string; state: SignInState }
  | { type: 'ray-clusters-changed'; clusterId: string }
  | { type: 'connection-changed'; connection: ConnectionSummary }
  | { type: 'token-rotated'; ref: RayClusterRef; tokenVersion: number }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string };
