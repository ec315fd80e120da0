// Types for client.mjs: helpers that tests use against the running sandbox (`pnpm sandbox up`).

export interface RayHeadPorts {
  dashboardPort: number;
  clientPort: number;
  gcsPort: number;
  mode?: string;
  url?: string;
}

export interface SandboxUser {
  /** login name at the OIDC provider */
  username: string;
  password: string;
  /** the Kubernetes username the apiserver maps the id_token to (`oidc:<sub>`) */
  kubeUsername: string;
  groups: string[];
  /** Kubernetes groups (`oidc:<group>`) */
  kubeGroups: string[];
  email: string;
}

export interface RayClusterDetails {
  name: string;
  headPod: string;
  headService: string;
  /** the Secret holding the Ray token, if any */
  secretName?: string;
  /** which local Ray head the pod's ports forward to */
  rayHead: 'token' | 'rbac' | 'noauth';
}

export type RayClusterKey = 'token' | 'secretName' | 'rbac' | 'legacy' | 'noauth' | 'emptyAuth';

export interface SandboxEnv {
  /** state dir ($RC_CACHE/sandbox) */
  dir: string;
  /** https://127.0.0.1:6443 */
  apiServer: string;
  /** CA of everything in the sandbox (apiserver, OIDC provider, kubelet) */
  caFile: string;
  /** kubeconfig with a system:masters client certificate */
  adminKubeconfig: string;
  /** $RC_CACHE/bin/kubectl */
  kubectl: string;
  /** ray-demo */
  namespace: string;
  ports: { oidc: number; etcd: number; etcdPeer: number; apiserver: number; kwok: number };
  oidc: {
    issuer: string;
    clientId: string;
    caFile: string;
    tokenTtlSeconds: number;
    openshiftDiscovery: string;
  };
  users: { alice: SandboxUser; bob: SandboxUser };
  /** --token-auth-file users; the token is in tokenFile (0600) */
  staticUsers: Record<
    'admin' | 'rayUser' | 'nobody',
    { username: string; groups: string[]; tokenFile: string }
  >;
  serviceAccounts: {
    rayUser: { namespace: string; name: string };
    rayHead: { namespace: string; name: string };
  };
  /** RayCluster names by auth shape */
  rayClusters: Record<RayClusterKey, string>;
  rayClusterDetails: Partial<Record<RayClusterKey, RayClusterDetails>>;
  /** local Ray heads that are up (token, rbac, noauth) */
  rayHeads: Partial<Record<'token' | 'rbac' | 'noauth', RayHeadPorts>>;
  /** set when `up` could not start (all) Ray heads */
  rayHeadsError?: string;
  /** the static Ray token of the token-mode head (0600) */
  rayTokenFile: string;
}

export interface OidcTokens {
  idToken: string;
  refreshToken?: string;
  accessToken: string;
  expiresIn: number;
  scope?: string;
}

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The `sandbox env --json` object; throws a clear message when the sandbox was never started. */
export function readSandbox(): SandboxEnv;

/** Approves (or with deny: true aborts) a device code as `user` via /device -> confirm -> login -> consent. */
export function approveDevice(o: {
  userCode: string;
  user: string;
  password?: string;
  deny?: boolean;
  /** Another instance of the sandbox provider (default: the sandbox's issuer). */
  issuer?: string;
}): Promise<void>;

/**
 * Follows an authorization URL (client_id kubernetes, redirect_uri http://127.0.0.1:<port>/callback, PKCE) through
 * login and consent, then GETs the final loopback redirect so the caller's listener receives it. With
 * `follow: false` it stops at the redirect (a host's own callback page): only callbackUrl.
 */
export function browserLogin(
  authorizeUrl: string,
  o: { user: string; password?: string; follow?: true },
): Promise<{ callbackUrl: string; status: number; body: string }>;
export function browserLogin(
  authorizeUrl: string,
  o: { user: string; password?: string; follow: false },
): Promise<{ callbackUrl: string }>;

/** Runs the sandbox kubectl (default identity: admin). A token is passed through a temp 0600 kubeconfig, never argv. */
export function kubectl(
  args: string[],
  o?: { kubeconfig?: string; token?: string; input?: string; namespace?: string; timeoutMs?: number },
): Promise<KubectlResult>;

/** Writes a 0600 kubeconfig for the sandbox cluster with the given `user` entry (e.g. { token } or { exec }). */
export function writeUserKubeconfig(
  file: string,
  user: Record<string, unknown>,
  o?: { namespace?: string },
): string;

/** TokenRequest for a ServiceAccount (as admin). */
export function createToken(
  namespace: string,
  serviceAccount: string,
  o?: { expirationSeconds?: number; audiences?: string[] },
): Promise<string>;

/** A real device flow for `user`, approved with approveDevice. Default scope: openid offline_access email profile groups. */
export function oidcLogin(user: string, o?: { scope?: string; password?: string }): Promise<OidcTokens>;

/** refresh_token grant. Refresh tokens rotate: the old one is invalid afterwards (reusing it revokes the grant). */
export function oidcRefresh(refreshToken: string): Promise<OidcTokens>;
