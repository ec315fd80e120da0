import { sessionCredentialSource } from '../auth/sessionCredentialSource.js';
import type { SessionStore } from '../auth/sessionStore.js';
import { isRayConnectError, RayConnectError } from '../errors.js';
import type { CredentialSource } from '../kube/credential.js';
import { whoAmI } from '../kube/whoAmI.js';
import type { KubeClient, KubeIdentity } from '../ports/KubeClient.js';
import {
  type ClusterDirectory,
  type ClusterEntry,
  kubeClientFor,
  readClusterDirectory,
} from './clusterDirectory.js';
import { type ConfigState, readConfigState } from './configState.js';
import type { RayConnectDeps } from './deps.js';

/**
 * The clusters the user has and a KubeClient per cluster, built once and dropped when the sign-in changes.
 * Credentials: a stored sign-in (device, browser, openshift, token) unless the user chose the kubeconfig's own.
 */
export class KubeClients {
  private readonly clients = new Map<string, Promise<KubeClient>>();
  /** Who the user is per cluster, as the API server said (kubeconfig / in-cluster credentials). */
  readonly identities = new Map<string, KubeIdentity>();

  constructor(
    private readonly deps: RayConnectDeps,
    private readonly sessions: SessionStore,
    /** A stored sign-in just ended (REFRESH_FAILED, TOKEN_EXPIRED) while in use: the host should be told. */
    private readonly onSessionEnded: (clusterId: string) => void = () => undefined,
  ) {}

  async load(): Promise<{ state: ConfigState; dir: ClusterDirectory }> {
    const state = await readConfigState(this.deps.configDir);
    return { state, dir: await readClusterDirectory(this.deps, state) };
  }

  async entryOf(
    clusterId: string,
  ): Promise<{ state: ConfigState; dir: ClusterDirectory; entry: ClusterEntry }> {
    const { state, dir } = await this.load();
    const entry = dir.entries.find((e) => e.id === clusterId);
    if (!entry)
      throw new RayConnectError('CONTEXT_NOT_FOUND', `No cluster ${clusterId}`, {
        fix: 'List clusters with `ray-connect whoami --all` or pick a context with --context',
        details: { cluster: clusterId },
      });
    return { state, dir, entry };
  }

  get(clusterId: string): Promise<KubeClient> {
    let client = this.clients.get(clusterId);
    if (!client) {
      client = (async () => {
        const { state, dir, entry } = await this.entryOf(clusterId);
        return kubeClientFor(dir, entry, this.deps, await this.credentialFor(entry, state));
      })();
      client.catch(() => this.clients.delete(clusterId));
      this.clients.set(clusterId, client);
    }
    return client;
  }

  /** Sign-in changed: the next request builds a new client. */
  forget(clusterId: string): void {
    this.clients.delete(clusterId);
  }

  /** Who the user is (for exact RBAC in messages): known identity, stored session, else a SelfSubjectReview. */
  async username(clusterId: string): Promise<string | undefined> {
    const known =
      this.identities.get(clusterId)?.username ??
      (await this.sessions.load(clusterId).catch(() => undefined))?.info.identity?.username;
    if (known !== undefined) return known;
    try {
      const identity = await whoAmI(await this.get(clusterId));
      this.identities.set(clusterId, identity);
      return identity.username;
    } catch {
      return undefined;
    }
  }

  private async credentialFor(
    entry: ClusterEntry,
    state: ConfigState,
  ): Promise<CredentialSource | undefined> {
    const method = state.methods[entry.id];
    if (method === 'kubeconfig' || method === 'in-cluster') return undefined;
    const session = await this.sessions.load(entry.id);
    if (session !== undefined) {
      const source = sessionCredentialSource(entry.id, {
        store: this.deps.store,
        configDir: this.deps.configDir,
        clock: this.deps.clock,
        logger: this.deps.logger,
      });
      return {
        ...source,
        get: async (signal?: AbortSignal) => {
          try {
            return await source.get(signal);
          } catch (e) {
            if (isRayConnectError(e, 'REFRESH_FAILED') || isRayConnectError(e, 'TOKEN_EXPIRED'))
              this.onSessionEnded(entry.id);
            throw e;
          }
        },
      };
    }
    if (!entry.ownCredentials)
      throw new RayConnectError('SIGNED_OUT', `Not signed in to ${entry.name}`, {
        fix: `Sign in: ray-connect login --context ${entry.name}`,
        details: { cluster: entry.id },
      });
    return undefined;
  }
}
