import type { Secret } from '../secret.js';

/** What a request to the API server presents: a bearer token, a client certificate, or both. */
export interface Credential {
  token?: Secret;
  clientCert?: { cert: string | Buffer; key: Secret };
  /** Epoch ms after which the credential must not be used (exec expirationTimestamp, JWT exp). */
  expiresAt?: number;
}

/**
 * A source of credentials for one identity: kubeconfig token / tokenFile / client cert / exec plugin /
 * auth-provider oidc, the in-cluster service account, a pasted token, or a stored OIDC sign-in (refreshed).
 * `get()` returns a valid credential (refreshing or re-running as needed) or throws a RayConnectError
 * (TOKEN_EXPIRED, EXEC_PLUGIN_FAILED, REFRESH_FAILED...). Concurrent callers share one in-flight refresh.
 */
export interface CredentialSource {
  /** Describes the kind, for logs and tooltips ("exec: kubelogin", "OIDC device sign-in"). Never a secret. */
  readonly description: string;
  get(signal?: AbortSignal): Promise<Credential>;
  /** Called after the API server answered 401 with this credential: drop caches so the next get() refreshes. */
  invalidate?(): void;
}
