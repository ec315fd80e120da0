import type {
  AccessCheck, AddClusterInput, ClusterSummary, ConnectionSummary, ConnectOptions, DisconnectResult, RayClusterList, RayClusterRef,
  RayConnectApi, RayConnectEvent, SessionEnv, SignInInput, SignInProgress, SignInState, SignOutResult, VersionInfo,
} from '@ray-connect/shared';
import { PROTOCOL_VERSION } from '@ray-connect/shared';
import { join } from 'node:path';
import type { SignInDeps } from '../auth/deps.js';
import { sessionCredentialSource } from '../auth/sessionCredentialSource.js';
import { SessionStore } from '../auth/sessionStore.js';
import { signOut as removeStoredSignIn } from '../auth/signOut.js';
import { RayConnectError, wrapError } from '../errors.js';
import type { CredentialSource } from '../kube/credential.js';
import { whoAmI } from '../kube/whoAmI.js';
import type { KubeClient, KubeIdentity } from '../ports/KubeClient.js';
import { checkAccess } from '../ray/checkAccess.js';
import { connectRayCluster, type RayConnection } from '../ray/connectRayCluster.js';
import { getRayCluster } from '../ray/getRayCluster.js';
import { getRayToken } from '../ray/getRayToken.js';
import { listRayClusters } from '../ray/listRayClusters.js';
import { type ClusterDirectory, type ClusterEntry, kubeClientFor, readClusterDirectory } from './clusterDirectory.js';
import { clusterSignInState } from './clusterSignIn.js';
import { type ConfigState, readConfigState, updateConfigState } from './configState.js';
import type { RayConnectDeps } from './deps.js';
import { SignInFlows } from './signInFlows.js';

/** The facade a host holds: the RayConnectApi, plus close() for the host's shutdown. */
export interface RayConnect extends RayConnectApi {
  /** Stops every connection and pending sign-in. Nothing listens afterwards. */
  close(): Promise<void>;
}

const refKey = (r: RayClusterRef) => `${r.clusterId}\u0000${r.namespace}\u0000${r.name}`;

/**
 * The one implementation of RayConnectApi: VS Code calls it in-process, the agent serves it over HTTP.
 * Clusters are kubeconfig contexts, clusters added by URL, and the in-cluster service account.
 */
export function createRayConnect(deps: RayConnectDeps): RayConnect {
  const listeners = new Set<(event: RayConnectEvent) => void>();
  const sessions = new SessionStore(deps.store);
  const flows = new SignInFlows();
  const connections = new Map<string, RayConnection>();
  const clients = new Map<string, Promise<KubeClient>>();
  const identities = new Map<string, KubeIdentity>();
  const tokenDir = deps.tokenDir ?? join(deps.configDir, 'tokens');

  const emit = (event: RayConnectEvent) => {
    for (const l of listeners) {
      try {
        l(event);
      } catch (e) {
        deps.logger.warn('event listener failed', { reason: e instanceof Error ? e.message : String(e) });
      }
    }
  };

  const load = async (): Promise<{ state: ConfigState; dir: ClusterDirectory }> => {
    const state = await readConfigState(deps.configDir);
    return { state, dir: await readClusterDirectory(deps, state) };
  };

  const entryOf = async (clusterId: string) => {
    const { state, dir } = await load();
    const entry = dir.entries.find((e) => e.id === clusterId);
    if (!entry)
      throw new RayConnectError('CONTEXT_NOT_FOUND', `No cluster ${clusterId}`, {
        fix: 'List clusters with `ray-connect whoami` or pick a context with --context',
        details: { cluster: clusterId },
      });
    return { state, dir, entry };
  };

  const sessionCredential = (clusterId: string): CredentialSource =>
    sessionCredentialSource(clusterId, { store: deps.store, configDir: deps.configDir, clock: deps.clock, logger: deps.logger });

  const credentialFor = async (entry: ClusterEntry, state: ConfigState): Promise<CredentialSource | undefined> => {
    const method = state.methods[entry.id];
    if (method === 'kubeconfig' || method === 'in-cluster') return undefined;
    const session = await sessions.load(entry.id);
    if (session !== undefined) return sessionCredential(entry.id);
    if (!entry.ownCredentials)
      throw new RayConnectError('SIGNED_OUT', `Not signed in to ${entry.name}`, { fix: `Sign in: ray-connect login --context ${entry.name}`, details: { cluster: entry.id } });
    return undefined;
  };

  const kube = (clusterId: string): Promise<KubeClient> => {
    let client = clients.get(clusterId);
    if (!client) {
      client = (async () => {
        const { state, dir, entry } = await entryOf(clusterId);
        return kubeClientFor(dir, entry, deps, await credentialFor(entry, state));
      })();
      client.catch(() => clients.delete(clusterId));
      clients.set(clusterId, client);
    }
    return client;
  };

  const summaryOf = async (entry: ClusterEntry, state: ConfigState): Promise<ClusterSummary> => {
    const summary: ClusterSummary = {
      id: entry.id,
      name: entry.name,
      server: entry.server,
      source: entry.source,
      namespace: entry.namespace,
      namespaces: state.namespaces[entry.id] ?? [entry.namespace],
      current: entry.current,
      signIn: await clusterSignInState(entry, state, sessions, identities.get(entry.id), deps.clock.now()),
      storage: { ...deps.store.info },
    };
    if (entry.file !== undefined) summary.file = entry.file;
    return summary;
  };

  const signInChanged = async (clusterId: string): Promise<SignInState> => {
    clients.delete(clusterId);
    const { state, entry } = await entryOf(clusterId);
    const signIn = (await summaryOf(entry, state)).signIn;
    emit({ type: 'sign-in-changed', clusterId, state: signIn });
    return signIn;
  };

  const setMethod = (clusterId: string, method: SignInInput['method'] | undefined) =>
    updateConfigState(deps.configDir, (s) => {
      if (method === undefined) delete s.methods[clusterId];
      else s.methods[clusterId] = method;
    });

  const connection = (ref: RayClusterRef): RayConnection => {
    const c = connections.get(refKey(ref));
    if (!c || c.summary().state === 'disconnected')
      throw new RayConnectError('BAD_REQUEST', `Not connected to Ray cluster ${ref.name}`, {
        fix: `Connect first: ray-connect connect ${ref.name} -n ${ref.namespace}`,
        details: { ...ref },
      });
    return c;
  };

  const disconnectOne = async (key: string): Promise<string[]> => {
    const c = connections.get(key);
    if (!c) return [];
    connections.delete(key);
    const removed = await c.stop();
    return removed.length ? removed.map((r) => `${r} (connection ${c.ref.name})`) : [`connection ${c.ref.name}`];
  };

  /** Who the user is on a cluster (for exact RBAC in messages): known identity, stored session, else a SelfSubjectReview. */
  const username = async (clusterId: string): Promise<string | undefined> => {
    const known = identities.get(clusterId)?.username ?? (await sessions.load(clusterId).catch(() => undefined))?.info.identity?.username;
    if (known !== undefined) return known;
    try {
      const identity = await whoAmI(await kube(clusterId));
      identities.set(clusterId, identity);
      return identity.username;
    } catch {
      return undefined;
    }
  };

  const api: RayConnect = {
    async version(): Promise<VersionInfo> {
      return { version: deps.version ?? '0.0.0', protocol: PROTOCOL_VERSION };
    },

    async listClusters(): Promise<ClusterSummary[]> {
      const { state, dir } = await load();
      return Promise.all(dir.entries.map((e) => summaryOf(e, state)));
    },

    async addCluster(input: AddClusterInput): Promise<ClusterSummary> {
      let url: URL;
      try {
        url = new URL(input.server);
      } catch {
        throw new RayConnectError('BAD_REQUEST', `${input.server} is not a URL`, { fix: 'Give the API server URL, e.g. https://api.example.com:6443' });
      }
      if (url.protocol !== 'https:') throw new RayConnectError('BAD_REQUEST', 'The API server URL must start with https://', { details: { url: input.server } });
      const id = `url:${url.origin}`;
      await updateConfigState(deps.configDir, (s) => {
        s.added = s.added.filter((a) => a.id !== id);
        s.added.push({ ...input, server: url.origin, id });
      });
      emit({ type: 'clusters-changed' });
      const { state, entry } = await entryOf(id);
      return summaryOf(entry, state);
    },

    async removeCluster(clusterId: string): Promise<void> {
      const { entry } = await entryOf(clusterId);
      if (entry.source !== 'added')
        throw new RayConnectError('BAD_REQUEST', `${entry.name} comes from ${entry.source === 'kubeconfig' ? 'the kubeconfig' : 'the pod'} and cannot be removed here`, {
          fix: entry.source === 'kubeconfig' ? `kubectl config delete-context ${entry.name}` : undefined,
        });
      await api.signOut(clusterId);
      await updateConfigState(deps.configDir, (s) => {
        s.added = s.added.filter((a) => a.id !== clusterId);
        delete s.namespaces[clusterId];
        delete s.methods[clusterId];
      });
      emit({ type: 'clusters-changed' });
    },

    async beginSignIn(clusterId: string, input: SignInInput): Promise<SignInProgress> {
      const { dir, entry } = await entryOf(clusterId);
      if (input.method === 'kubeconfig' || input.method === 'in-cluster') {
        const expected = input.method === 'kubeconfig' ? 'kubeconfig' : 'in-cluster';
        if (entry.source !== expected || !entry.ownCredentials)
          throw new RayConnectError('BAD_REQUEST', `${entry.name} has no ${expected === 'kubeconfig' ? 'kubeconfig credentials' : 'service account'} to use`, {
            fix: 'Sign in with --device, --browser or --token-stdin instead',
          });
        const client = await kubeClientFor(dir, entry, deps);
        const identity = await whoAmI(client);
        identities.set(clusterId, identity);
        await setMethod(clusterId, input.method);
        return { kind: 'done', state: await signInChanged(clusterId) };
      }
      const signInDeps: SignInDeps = {
        store: deps.store,
        clock: deps.clock,
        logger: deps.logger,
        browser: deps.browser,
        verifyIdentity: async (credential) => whoAmI(await kubeClientFor(dir, entry, deps, credential)),
      };
      const { progress, session } = await flows.begin(entry, input, signInDeps, deps);
      if (session !== undefined) {
        await setMethod(clusterId, session.info.method);
        return { kind: 'done', state: await signInChanged(clusterId) };
      }
      return progress;
    },

    async completeSignIn(loginId: string): Promise<SignInState> {
      const flow = flows.get(loginId);
      try {
        const session = await flow.done;
        await setMethod(flow.clusterId, session.info.method);
        return await signInChanged(flow.clusterId);
      } catch (e) {
        throw wrapError(e, 'Signing in', 'IDP_ERROR');
      } finally {
        flows.finish(loginId);
      }
    },

    async cancelSignIn(loginId: string): Promise<void> {
      flows.cancel(loginId);
    },

    async signOut(clusterId: string): Promise<SignOutResult> {
      const removed: string[] = [];
      for (const [key, c] of connections) if (c.ref.clusterId === clusterId) removed.push(...(await disconnectOne(key)));
      removed.push(...(await removeStoredSignIn(clusterId, { store: deps.store })).removed);
      identities.delete(clusterId);
      await setMethod(clusterId, undefined);
      await signInChanged(clusterId).catch(() => undefined);
      return { removed };
    },

    async setNamespaces(clusterId: string, namespaces: string[]): Promise<ClusterSummary> {
      const clean = [...new Set(namespaces.map((n) => n.trim()).filter((n) => /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(n)))];
      if (clean.length === 0) throw new RayConnectError('BAD_REQUEST', 'Give at least one valid namespace name', { details: { cluster: clusterId } });
      await updateConfigState(deps.configDir, (s) => {
        s.namespaces[clusterId] = clean;
      });
      emit({ type: 'ray-clusters-changed', clusterId });
      const { state, entry } = await entryOf(clusterId);
      return summaryOf(entry, state);
    },

    async listRayClusters(clusterId: string, namespaces?: string[]): Promise<RayClusterList> {
      const client = await kube(clusterId);
      const state = await readConfigState(deps.configDir);
      const chosen = namespaces?.length ? namespaces : (state.namespaces[clusterId] ?? [client.namespace]);
      const list = await listRayClusters({ clusterId, namespaces: chosen }, { kube: client, logger: deps.logger });
      for (const item of list.items) {
        const c = connections.get(refKey(item));
        if (c) item.connection = c.summary();
      }
      return list;
    },

    async checkAccess(ref: RayClusterRef): Promise<AccessCheck> {
      const client = await kube(ref.clusterId);
      return checkAccess(await getRayCluster(ref, client), client, await username(ref.clusterId));
    },

    async connect(ref: RayClusterRef, options: ConnectOptions = {}): Promise<ConnectionSummary> {
      const key = refKey(ref);
      const existing = connections.get(key);
      if (existing && !['failed', 'disconnected'].includes(existing.summary().state)) return existing.summary();
      if (existing) await disconnectOne(key);
      const client = await kube(ref.clusterId);
      let lastVersion = 1;
      const c = await connectRayCluster(ref, options, {
        kube: client,
        clock: deps.clock,
        logger: deps.logger,
        tokenDir,
        username: await username(ref.clusterId),
        ...(deps.watchIntervalMs !== undefined && { watchIntervalMs: deps.watchIntervalMs }),
        onChange: (summary) => {
          emit({ type: 'connection-changed', connection: summary });
          if (summary.error && (summary.state === 'failed' || summary.state === 'reconnecting'))
            emit({ type: 'log', level: summary.state === 'failed' ? 'error' : 'warn', message: `${ref.name}: ${summary.state}: ${summary.error.message}` });
          if (summary.tokenVersion !== lastVersion) {
            lastVersion = summary.tokenVersion;
            emit({ type: 'token-rotated', ref: { clusterId: ref.clusterId, namespace: ref.namespace, name: ref.name }, tokenVersion: summary.tokenVersion });
          }
        },
      });
      connections.set(key, c);
      return c.summary();
    },

    async disconnect(ref: RayClusterRef): Promise<DisconnectResult> {
      return { removed: await disconnectOne(refKey(ref)) };
    },

    async listConnections(): Promise<ConnectionSummary[]> {
      return [...connections.values()].map((c) => c.summary());
    },

    async sessionEnv(ref: RayClusterRef): Promise<SessionEnv> {
      return connection(ref).sessionEnv();
    },

    async rayToken(ref: RayClusterRef): Promise<{ token: string; expiresAt?: number }> {
      const c = connections.get(refKey(ref));
      let token = c?.token();
      if (!c) {
        const client = await kube(ref.clusterId);
        token = await getRayToken(await getRayCluster(ref, client), client);
      }
      if (!token)
        throw new RayConnectError('RAY_TOKEN_NOT_FOUND', `Ray cluster ${ref.name} has no auth: there is no token`, { details: { ...ref } });
      return token.expiresAt === undefined ? { token: token.token.reveal() } : { token: token.token.reveal(), expiresAt: token.expiresAt };
    },

    onEvent(listener: (event: RayConnectEvent) => void): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    async close(): Promise<void> {
      flows.cancelAll();
      for (const key of [...connections.keys()]) await disconnectOne(key);
    },
  };
  return api;
}
