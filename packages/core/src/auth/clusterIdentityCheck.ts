import { createKubeClient } from '../kube/createKubeClient.js';
import { whoAmI } from '../kube/whoAmI.js';
import type { Logger } from '../ports/Logger.js';
import type { IdentityCheck } from './deps.js';

export interface ClusterTarget {
  /** API server URL. */
  server: string;
  /** PEM of the API server's CA. */
  ca?: string | Buffer | (string | Buffer)[];
  /** Security risk: skips TLS verification. A named opt-in only. */
  insecureSkipTlsVerify?: boolean;
  logger?: Logger;
}

/** The usual IdentityCheck: a SelfSubjectReview against the cluster with the new credential. */
export function clusterIdentityCheck(target: ClusterTarget): IdentityCheck {
  return (credential, signal) =>
    whoAmI(
      createKubeClient({
        server: target.server,
        credential,
        ...(target.ca !== undefined ? { ca: target.ca } : {}),
        ...(target.insecureSkipTlsVerify ? { insecureSkipTlsVerify: true } : {}),
        ...(target.logger !== undefined ? { logger: target.logger } : {}),
      }),
      signal,
    );
}
