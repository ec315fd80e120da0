import type { KubeFetch } from '../kube/createKubeClient.js';
import type { ReadTextFile } from '../kube/readTextFile.js';
import type { Browser } from '../ports/Browser.js';
import type { Clock } from '../ports/Clock.js';
import type { Logger } from '../ports/Logger.js';
import type { SecretStore } from '../ports/SecretStore.js';

/** What a host gives createRayConnect. A plain typed object: the host's composition root fills it. */
export interface RayConnectDeps {
  /** Where tokens and refresh tokens live (OS keychain, VS Code SecretStorage, memory). */
  store: SecretStore;
  logger: Logger;
  clock: Clock;
  /** Opens sign-in pages. */
  browser: Browser;
  /** Non-secret state (added clusters, chosen namespaces, sign-in method per cluster), locks, token files. */
  configDir: string;
  /** Environment for kubeconfig resolution (KUBECONFIG, in-cluster KUBERNETES_SERVICE_HOST...). */
  env: Record<string, string | undefined>;
  homedir: string;
  /** An explicit kubeconfig file (a setting or --kubeconfig): replaces KUBECONFIG and ~/.kube/config. */
  kubeconfigPath?: string;
  /** CA file setting: wins over the kubeconfig's CA. */
  caFile?: string;
  /** Security risk, named opt-in. */
  insecureSkipTlsVerify?: boolean;
  /** Defaults for device/browser sign-in when the request and the kubeconfig name no issuer. */
  oidc?: { issuer?: string; clientId?: string; scopes?: string[]; caFile?: string };
  /** Package version reported by version(). */
  version?: string;
  /** Directory for RAY_AUTH_TOKEN_PATH files (default `<configDir>/tokens`). */
  tokenDir?: string;
  readFile?: ReadTextFile;
  fetch?: KubeFetch;
  /** Head pod check interval of port-forwards (default 5 s; 0 = off). */
  watchIntervalMs?: number;
}
