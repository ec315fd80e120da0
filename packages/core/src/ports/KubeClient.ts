import type { Secret } from '../secret.js';

export interface KubeRequest {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path on the API server, e.g. `/apis/ray.io/v1/namespaces/ns/rayclusters`. */
  path: string;
  query?: Record<string, string | undefined>;
  body?: unknown;
  signal?: AbortSignal;
}

/** The identity the API server sees (from SelfSubjectReview). */
export interface KubeIdentity {
  username: string;
  groups: string[];
}

/**
 * An authenticated connection to one Kubernetes API server, as the rest of the core sees it.
 * Built from a kubeconfig context or a stored sign-in; credentials are resolved (and refreshed) inside.
 * Failures are RayConnectErrors: 401 -> TOKEN_EXPIRED/TOKEN_INVALID, 403 -> ACCESS_DENIED (details: verb,
 * resource, namespace, name), network -> CLUSTER_UNREACHABLE, certificate -> TLS_UNTRUSTED, 404 -> the caller decides.
 */
export interface KubeClient {
  /** API server URL, e.g. https://127.0.0.1:6443 */
  readonly server: string;
  /** Default namespace of the context (or `default`). */
  readonly namespace: string;
  /** JSON request; returns the parsed body. */
  request<T = unknown>(req: KubeRequest): Promise<T>;
  /**
   * The current bearer token of this identity, refreshed when close to expiry; undefined for client-cert users.
   * In Ray's Kubernetes RBAC mode this token IS the Ray token.
   */
  bearerToken(): Promise<{ token: Secret; expiresAt?: number } | undefined>;
  /** TLS + auth material for a WebSocket to the API server (port-forward). */
  webSocketOptions(): Promise<KubeWebSocketOptions>;
}

/** What `ws` needs to open an authenticated WebSocket to the API server. Holds secrets: never log it. */
export interface KubeWebSocketOptions {
  headers: Record<string, string>;
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
  rejectUnauthorized: boolean;
  /** TLS server name to verify, when the kubeconfig sets `tls-server-name`. */
  servername?: string;
  /** Proxy agent when HTTPS_PROXY applies, else undefined. */
  agent?: unknown;
}
