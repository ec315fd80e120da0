import type { Secret } from '../secret.js';

/**
 * The validated, frozen view of the merged kubeconfig (kubectl's precedence). Paths inside are absolute
 * (resolved against the file that holds them). Inline `*-data` fields stay base64 as written.
 */
export interface KubeconfigView {
  /** The files merged, in precedence order (only those that exist). */
  readonly files: readonly string[];
  /** Files named in KUBECONFIG that do not exist (skipped, as kubectl does). */
  readonly missing: readonly string[];
  /** From the first file that sets it; undefined when none does. */
  readonly currentContext: string | undefined;
  readonly clusters: readonly NamedEntry<KubeCluster>[];
  readonly users: readonly NamedEntry<KubeUser>[];
  readonly contexts: readonly NamedEntry<KubeContext>[];
}

export interface NamedEntry<T> {
  readonly name: string;
  /** The file this entry came from. */
  readonly file: string;
  readonly value: T;
}

export interface KubeCluster {
  readonly server: string;
  readonly certificateAuthority?: string;
  readonly certificateAuthorityData?: string;
  readonly insecureSkipTlsVerify?: boolean;
  readonly tlsServerName?: string;
  readonly proxyUrl?: string;
  /** `extensions[name=client.authentication.k8s.io/exec].extension`, passed to exec plugins as `config`. */
  readonly execExtension?: unknown;
}

export interface KubeContext {
  readonly cluster: string;
  readonly user: string;
  readonly namespace?: string;
}

export interface KubeExecConfig {
  readonly command: string;
  readonly args: readonly string[];
  readonly env: readonly { readonly name: string; readonly value: string }[];
  readonly apiVersion: string;
  readonly provideClusterInfo: boolean;
  readonly interactiveMode: 'Never' | 'IfAvailable' | 'Always';
  readonly installHint?: string;
}

export interface KubeAuthProvider {
  readonly name: string;
  /** Non-secret settings (idp-issuer-url, client-id, idp-certificate-authority(-data), ...). */
  readonly config: Readonly<Record<string, string>>;
  /** id-token, refresh-token, client-secret. */
  readonly secrets: Readonly<Record<string, Secret>>;
}

/** A kubeconfig user. Secrets (`token`, `password`, key data) are `Secret`s so the view can be logged. */
export interface KubeUser {
  readonly token?: Secret;
  readonly tokenFile?: string;
  readonly clientCertificate?: string;
  readonly clientCertificateData?: string;
  readonly clientKey?: string;
  readonly clientKeyData?: Secret;
  readonly username?: string;
  readonly password?: Secret;
  readonly exec?: KubeExecConfig;
  readonly authProvider?: KubeAuthProvider;
}

/** One context with its cluster and user looked up. */
export interface ResolvedContext {
  readonly name: string;
  readonly namespace: string;
  readonly context: NamedEntry<KubeContext>;
  readonly cluster: NamedEntry<KubeCluster>;
  readonly user: NamedEntry<KubeUser>;
}
