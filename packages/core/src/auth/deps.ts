import type { CredentialSource } from '../kube/credential.js';
import type { Browser } from '../ports/Browser.js';
import type { Clock } from '../ports/Clock.js';
import type { KubeIdentity } from '../ports/KubeClient.js';
import type { Logger } from '../ports/Logger.js';
import type { SecretStore } from '../ports/SecretStore.js';

/**
 * Asks the cluster who a credential is (SelfSubjectReview). The composition root builds it from the
 * cluster's server and CA, e.g. `(c) => whoAmI(createKubeClient({ server, ca, credential: c }))`.
 */
export type IdentityCheck = (credential: CredentialSource, signal?: AbortSignal) => Promise<KubeIdentity>;

/** What the sign-in use-cases need from the host. */
export interface SignInDeps {
  store: SecretStore;
  /** Validates the new credential against the API server; without it the identity comes from id_token claims. */
  verifyIdentity?: IdentityCheck;
  clock?: Clock;
  logger?: Logger;
  /** Opens the sign-in page. Only interactive sign-in uses it; background refresh never does. */
  browser?: Browser;
}
