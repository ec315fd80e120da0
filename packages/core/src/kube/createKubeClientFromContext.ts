import type { Clock } from '../ports/Clock.js';
import type { KubeClient } from '../ports/KubeClient.js';
import type { Logger } from '../ports/Logger.js';
import { createKubeClient, type KubeFetch } from './createKubeClient.js';
import { credentialSourceForUser } from './credentialSourceForUser.js';
import type { CredentialSource } from './credential.js';
import type { KubeconfigView } from './kubeconfigTypes.js';
import { nodeReadTextFile, type ReadTextFile } from './readTextFile.js';
import { resolveCa } from './resolveCa.js';
import { resolveContext } from './resolveContext.js';
import type { Spawn } from './runExecPlugin.js';

export interface KubeClientFromContextOptions {
  /** The CA file setting (rayConnect.caFile): wins over the kubeconfig's CA. */
  caFile?: string;
  /** Security risk, named opt-in (also honoured from the kubeconfig cluster's insecure-skip-tls-verify). */
  insecureSkipTlsVerify?: boolean;
  /** Use this instead of the kubeconfig user's credentials (e.g. a stored sign-in). */
  credential?: CredentialSource;
  /** Overrides the context's namespace. */
  namespace?: string;
  readFile?: ReadTextFile;
  env?: Record<string, string | undefined>;
  logger?: Logger;
  clock?: Clock;
  fetch?: KubeFetch;
  spawn?: Spawn;
  execTimeoutMs?: number;
  /** Default /etc/pki/tls/custom-certs/ca-bundle.crt. */
  workbenchBundle?: string;
}

/** A KubeClient for a kubeconfig context (default: current-context), with the user's CredentialSource and the resolved CA. */
export async function createKubeClientFromContext(
  view: KubeconfigView,
  contextName: string | undefined,
  opts: KubeClientFromContextOptions = {},
): Promise<KubeClient> {
  const resolved = resolveContext(view, contextName);
  const readFile = opts.readFile ?? nodeReadTextFile;
  const cluster = resolved.cluster.value;
  const ca = await resolveCa({
    readFile,
    kubeconfig: cluster,
    ...(opts.caFile ? { setting: opts.caFile } : {}),
    ...(opts.env ? { env: opts.env } : {}),
    ...(opts.logger ? { logger: opts.logger } : {}),
    ...(opts.workbenchBundle ? { workbenchBundle: opts.workbenchBundle } : {}),
  });
  const caData =
    cluster.certificateAuthorityData ??
    (ca.source === 'kubeconfig' && ca.ca?.[0] ? Buffer.from(ca.ca[0]).toString('base64') : undefined);
  const credential =
    opts.credential ??
    credentialSourceForUser(resolved.user, {
      readFile,
      ...(opts.clock ? { clock: opts.clock } : {}),
      ...(opts.logger ? { logger: opts.logger } : {}),
      ...(opts.env ? { env: opts.env } : {}),
      ...(opts.spawn ? { spawn: opts.spawn } : {}),
      ...(opts.execTimeoutMs !== undefined ? { execTimeoutMs: opts.execTimeoutMs } : {}),
      cluster: {
        server: cluster.server,
        ...(caData ? { certificateAuthorityData: caData } : {}),
        ...(cluster.insecureSkipTlsVerify ? { insecureSkipTlsVerify: true } : {}),
        ...(cluster.tlsServerName ? { tlsServerName: cluster.tlsServerName } : {}),
        ...(cluster.proxyUrl ? { proxyUrl: cluster.proxyUrl } : {}),
        ...(cluster.execExtension !== undefined ? { config: cluster.execExtension } : {}),
      },
    });
  return createKubeClient({
    server: cluster.server,
    credential,
    namespace: opts.namespace ?? resolved.namespace,
    ...(ca.ca ? { ca: ca.ca } : {}),
    ...(opts.insecureSkipTlsVerify || cluster.insecureSkipTlsVerify ? { insecureSkipTlsVerify: true } : {}),
    ...(cluster.tlsServerName ? { tlsServerName: cluster.tlsServerName } : {}),
    ...(cluster.proxyUrl ? { proxyUrl: cluster.proxyUrl } : {}),
    ...(opts.env ? { env: opts.env } : {}),
    ...(opts.logger ? { logger: opts.logger } : {}),
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
  });
}
