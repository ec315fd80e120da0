import type { ClusterSummary } from '@ray-connect/shared';
import { RayConnectError } from '../errors.js';
import { createKubeClient } from '../kube/createKubeClient.js';
import { createKubeClientFromContext } from '../kube/createKubeClientFromContext.js';
import type { CredentialSource } from '../kube/credential.js';
import { inClusterConfig, type InClusterConfig } from '../kube/inClusterConfig.js';
import type { KubeconfigView, KubeUser } from '../kube/kubeconfigTypes.js';
import { loadKubeconfig } from '../kube/loadKubeconfig.js';
import { nodeReadTextFile } from '../kube/readTextFile.js';
import { resolveCa } from '../kube/resolveCa.js';
import { resolveContext } from '../kube/resolveContext.js';
import type { KubeClient } from '../ports/KubeClient.js';
import type { ConfigState } from './configState.js';
import type { RayConnectDeps } from './deps.js';

/** One cluster the user can sign in to, with what is needed to build its KubeClient. */
export interface ClusterEntry {
  id: string;
  name: string;
  server: string;
  source: ClusterSummary['source'];
  file?: string;
  namespace: string;
  current: boolean;
  /** kubeconfig context name (source kubeconfig). */
  context?: string;
  /** The kubeconfig user / service account brings its own credentials. */
  ownCredentials: boolean;
  /** The kubeconfig user's exec plugin args (to find an OIDC issuer for device/browser sign-in). */
  user?: KubeUser;
  added?: ConfigState['added'][number];
  inCluster?: InClusterConfig;
}

export interface ClusterDirectory {
  view: KubeconfigView;
  entries: ClusterEntry[];
}

/** Clusters = kubeconfig contexts + clusters added by URL + in-cluster (when running in a pod). */
export async function readClusterDirectory(
  deps: RayConnectDeps,
  state: ConfigState,
): Promise<ClusterDirectory> {
  const readFile = deps.readFile ?? nodeReadTextFile;
  const view = await loadKubeconfig({
    env: deps.env,
    homedir: deps.homedir,
    readFile,
    logger: deps.logger,
    ...(deps.kubeconfigPath !== undefined && { explicitPath: deps.kubeconfigPath }),
  });
  const entries: ClusterEntry[] = [];
  for (const ctx of view.contexts) {
    const cluster = view.clusters.find((c) => c.name === ctx.value.cluster);
    const user = view.users.find((u) => u.name === ctx.value.user);
    if (!cluster) continue;
    const entry: ClusterEntry = {
      id: `context:${ctx.name}`,
      name: ctx.name,
      server: cluster.value.server,
      source: 'kubeconfig',
      file: ctx.file,
      namespace: ctx.value.namespace || 'default',
      current: view.currentContext === ctx.name,
      context: ctx.name,
      ownCredentials: user !== undefined && hasCredentials(user.value),
    };
    if (user) entry.user = user.value;
    entries.push(entry);
  }
  for (const added of state.added) {
    entries.push({
      id: added.id,
      name: added.name ?? hostOf(added.server),
      server: added.server,
      source: 'added',
      namespace: added.namespace ?? 'default',
      current: false,
      ownCredentials: false,
      added,
    });
  }
  const inCluster = await inClusterConfig({ env: deps.env, readFile, clock: deps.clock });
  if (inCluster) {
    entries.push({
      id: 'in-cluster',
      name: 'in-cluster',
      server: inCluster.server,
      source: 'in-cluster',
      namespace: inCluster.namespace,
      current: view.contexts.length === 0,
      ownCredentials: true,
      inCluster,
    });
  }
  return { view, entries };
}

/** A KubeClient for a cluster; `credential` replaces the cluster's own credentials (a stored sign-in). */
export async function kubeClientFor(
  dir: ClusterDirectory,
  entry: ClusterEntry,
  deps: RayConnectDeps,
  credential?: CredentialSource,
): Promise<KubeClient> {
  const common = {
    logger: deps.logger,
    clock: deps.clock,
    env: deps.env,
    ...(deps.fetch !== undefined && { fetch: deps.fetch }),
  };
  if (entry.context !== undefined) {
    return createKubeClientFromContext(dir.view, entry.context, {
      ...common,
      ...(deps.readFile !== undefined && { readFile: deps.readFile }),
      ...(deps.caFile !== undefined && { caFile: deps.caFile }),
      ...(deps.insecureSkipTlsVerify && { insecureSkipTlsVerify: true }),
      ...(credential !== undefined && { credential }),
    });
  }
  const own = entry.inCluster?.credential;
  const chosen = credential ?? own;
  if (chosen === undefined)
    throw new RayConnectError('SIGNED_OUT', `Not signed in to ${entry.name}`, {
      fix: `Sign in: ray-connect login --context ${entry.id}`,
      details: { cluster: entry.id },
    });
  const ca = await clusterCaFor(dir, entry, deps);
  return createKubeClient({
    ...common,
    server: entry.server,
    credential: chosen,
    namespace: entry.namespace,
    ...(ca !== undefined && { ca }),
    ...((entry.added?.insecureSkipTlsVerify || deps.insecureSkipTlsVerify) && {
      insecureSkipTlsVerify: true,
    }),
  });
}

/**
 * The CA the cluster's API server is trusted with (as kubeClientFor resolves it): the setting, the kubeconfig
 * cluster's certificate-authority(-data), the in-cluster ca.crt, ...; undefined = the system roots.
 */
export async function clusterCaFor(
  dir: ClusterDirectory,
  entry: ClusterEntry,
  deps: RayConnectDeps,
): Promise<string[] | undefined> {
  const caFile = entry.added?.caFile ?? deps.caFile;
  if (entry.inCluster?.ca !== undefined && !caFile) return [entry.inCluster.ca];
  const kubeconfig =
    entry.context !== undefined ? resolveContext(dir.view, entry.context).cluster.value : undefined;
  const resolved = await resolveCa({
    readFile: deps.readFile ?? nodeReadTextFile,
    env: deps.env,
    logger: deps.logger,
    ...(caFile !== undefined && { setting: caFile }),
    ...(kubeconfig !== undefined && { kubeconfig }),
  });
  return resolved.ca;
}

function hasCredentials(user: KubeUser): boolean {
  return !!(
    user.token ||
    user.tokenFile ||
    user.exec ||
    user.authProvider ||
    user.clientCertificate ||
    user.clientCertificateData ||
    user.password
  );
}

function hostOf(server: string): string {
  try {
    return new URL(server).host;
  } catch {
    return server;
  }
}
