import type {
  AccessCheck,
  AddClusterInput,
  BrowserCallbackResult,
  ClusterSummary,
  ConnectionSummary,
  ConnectOptions,
  DisconnectResult,
  RayClusterList,
  RayClusterRef,
  RayConnectApi,
  RayConnectEvent,
  SessionEnv,
  SignInInput,
  SignInProgress,
  SignInState,
  SignOutResult,
  VersionInfo,
} from '@ray-connect/shared';
import { PROTOCOL_VERSION } from '@ray-connect/shared';
import type { SignInDeps } from '../auth/deps.js';
import { SessionStore } from '../auth/sessionStore.js';
import { signOut as removeStoredSignIn } from '../auth/signOut.js';
import { RayConnectError, wrapError } from '../errors.js';
import { whoAmI } from '../kube/whoAmI.js';
import { checkAccess } from '../ray/checkAccess.js';
import { getRayCluster } from '../ray/getRayCluster.js';
import { listRayClusters } from '../ray/listRayClusters.js';
import { type ClusterEntry, clusterCaFor, kubeClientFor } from './clusterDirectory.js';
import { clusterSignInState } from './clusterSignIn.js';
import { type ConfigState, readConfigState, updateConfigState } from './configState.js';
import { Connections } from './connections.js';
import type { RayConnectDeps } from './deps.js';
import { KubeClients } from './kubeClients.js';
import { type PendingSignIn, SignInFlows } from './signInFlows.js';

/** The facade a host holds: the RayConnectApi, plus close() for the host's shutdown. */
export interface RayConnect extends RayConnectApi {
  /** Stops every connection and pending sign-in. Nothing listens afterwards. */
  close(): Promise<void>;
}

/**
 * The one implementation of RayConnectApi: VS Code calls it in-process, the agent serves it over HTTP.
 * Clusters are kubeconfig contexts, clusters added by URL, and the in-cluster service account.
 */
export function createRayConnect(deps: RayConnectDeps): RayConnect {
  const listeners = new Set<(event: RayConnectEvent) => void>();
  const emit = (event: RayConnectEvent) => {
    for (const l of listeners) {
      try {
        l(event);
      } catch (e) {
        deps.logger.warn('event listener failed', { reason: e instanceof Error ? e.message : String(e) });
      }
    }
  };
  const sessions = new SessionStore(deps.store);
  /** The sign-in state last announced per cluster, so an ended session is announced once, not per request. */
  const announced = new Map<string, string>();
  const stateKey = (s: SignInState) => `${s.status}:${s.error?.code ?? ''}`;
  const clients = new KubeClients(deps, sessions, (clusterId) => {
    void (async () => {
      const { state, entry } = await clients.entryOf(clusterId);
      const signIn = (await summaryOf(entry, state)).signIn;
      if (announced.get(clusterId) === stateKey(signIn)) return;
      announced.set(clusterId, stateKey(signIn));
      emit({ type: 'sign-in-changed', clusterId, state: signIn });
    })().catch(() => undefined);
  });
  const connections = new Connections(deps, clients, emit);
  const flows = new SignInFlows();
  /** What a flow's end does (store the method, announce the state): once, whoever waits for it. */
  const completions = new WeakMap<PendingSignIn, Promise<SignInState>>();
  const completion = (flow: PendingSignIn): Promise<SignInState> => {
    let c = completions.get(flow);
    if (c === undefined) {
      c = flow.done.then(
        async (session) => {
          await setMethod(flow.clusterId, session.info.method);
          return signInChanged(flow.clusterId);
        },
        (e: unknown) => {
          throw wrapError(e, 'Signing in', 'IDP_ERROR');
        },
      );
      c.catch(() => undefined);
      completions.set(flow, c);
    }
    return c;
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
      signIn: await clusterSignInState(
        entry,
        state,
        sessions,
        clients.identities.get(entry.id),
        deps.clock.now(),
      ),
      storage: { ...deps.store.info },
    };
    if (entry.file !== undefined) summary.file = entry.file;
    return summary;
  };

  const signInChanged = async (clusterId: string): Promise<SignInState> => {
    clients.forget(clusterId);
    const { state, entry } = await clients.entryOf(clusterId);
    const signIn = (await summaryOf(entry, state)).signIn;
    announced.set(clusterId, stateKey(signIn));
    emit({ type: 'sign-in-changed', clusterId, state: signIn });
    return signIn;
  };

  const setMethod = (clusterId: string, method: SignInInput['method'] | undefined) =>
    updateConfigState(deps.configDir, (s) => {
      if (method === undefined) delete s.methods[clusterId];
      else s.methods[clusterId] = method;
    });

  const api: RayConnect = {
    async version(): Promise<VersionInfo> {
      return { version: deps.version ?? '0.0.0', protocol: PROTOCOL_VERSION };
    },

    async listClusters(): Promise<ClusterSummary[]> {
      const { state, dir } = await clients.load();
      return Promise.all(dir.entries.map((e) => summaryOf(e, state)));
    },

    async addCluster(input: AddClusterInput): Promise<ClusterSummary> {
      let url: URL;
      try {
        url = new URL(input.server);
      } catch {
        throw new RayConnectError('BAD_REQUEST', `${input.server} is not a URL`, {
          fix: 'Give the API server URL, e.g. https://api.example.com:6443',
        });
      }
      if (url.protocol !== 'https:')
        throw new RayConnectError('BAD_REQUEST', 'The API server URL must start with https://', {
          details: { url: input.server },
        });
      const id = `url:${url.origin}`;
      await updateConfigState(deps.configDir, (s) => {
        s.added = s.added.filter((a) => a.id !== id);
        s.added.push({ ...input, server: url.origin, id });
      });
      emit({ type: 'clusters-changed' });
      const { state, entry } = await clients.entryOf(id);
      return summaryOf(entry, state);
    },

    async removeCluster(clusterId: string): Promise<void> {
      const { entry } = await clients.entryOf(clusterId);
      if (entry.source !== 'added')
        throw new RayConnectError(
          'BAD_REQUEST',
          `${entry.name} comes from ${entry.source === 'kubeconfig' ? 'the kubeconfig' : 'the pod'} and cannot be removed here`,
          {
            fix: entry.source === 'kubeconfig' ? `kubectl config delete-context ${entry.name}` : undefined,
          },
        );
      await api.signOut(clusterId);
      await updateConfigState(deps.configDir, (s) => {
        s.added = s.added.filter((a) => a.id !== clusterId);
        delete s.namespaces[clusterId];
        delete s.methods[clusterId];
      });
      emit({ type: 'clusters-changed' });
    },

    async beginSignIn(clusterId: string, input: SignInInput): Promise<SignInProgress> {
      const { dir, entry } = await clients.entryOf(clusterId);
      if (input.method === 'kubeconfig' || input.method === 'in-cluster') {
        // The cluster's own credentials: nothing stored; check them with a SelfSubjectReview.
        const expected = input.method === 'kubeconfig' ? 'kubeconfig' : 'in-cluster';
        if (entry.source !== expected || !entry.ownCredentials)
          throw new RayConnectError(
            'BAD_REQUEST',
            `${entry.name} has no ${expected === 'kubeconfig' ? 'kubeconfig credentials' : 'service account'} to use`,
            {
              fix: 'Sign in with --device, --browser or --token-stdin instead',
            },
          );
        clients.identities.set(clusterId, await whoAmI(await kubeClientFor(dir, entry, deps)));
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
      const clusterCa = input.method === 'openshift' ? await clusterCaFor(dir, entry, deps) : undefined;
      const { progress, session } = await flows.begin(entry, input, signInDeps, deps, clusterCa);
      if (session !== undefined) {
        await setMethod(clusterId, session.info.method);
        return { kind: 'done', state: await signInChanged(clusterId) };
      }
      return progress;
    },

    async completeSignIn(loginId: string): Promise<SignInState> {
      const flow = flows.get(loginId);
      try {
        return await completion(flow);
      } finally {
        flows.finish(loginId);
      }
    },

    async finishBrowserSignIn(callbackUrl: string, loginId?: string): Promise<BrowserCallbackResult> {
      let callback: URL;
      try {
        // Only the query is used; a bare "?code=...&state=..." is accepted too.
        callback = new URL(callbackUrl, 'http://callback.invalid/');
      } catch {
        throw new RayConnectError('BAD_REQUEST', 'The sign-in callback is not a URL.', {
          fix: 'Pass the full URL the identity provider redirected the browser to.',
        });
      }
      const { flow, deliver } = flows.forRedirect(callback, loginId);
      const done = completion(flow);
      await deliver(callback);
      return { clusterId: flow.clusterId, clusterName: flow.clusterName, state: await done };
    },

    async cancelSignIn(loginId: string): Promise<void> {
      flows.cancel(loginId);
    },

    async signOut(clusterId: string): Promise<SignOutResult> {
      const removed = await connections.disconnectAll(clusterId);
      removed.push(...(await removeStoredSignIn(clusterId, { store: deps.store })).removed);
      clients.identities.delete(clusterId);
      await setMethod(clusterId, undefined);
      await signInChanged(clusterId).catch(() => undefined);
      return { removed };
    },

    async setNamespaces(clusterId: string, namespaces: string[]): Promise<ClusterSummary> {
      const clean = [
        ...new Set(namespaces.map((n) => n.trim()).filter((n) => /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(n))),
      ];
      if (clean.length === 0)
        throw new RayConnectError('BAD_REQUEST', 'Give at least one valid namespace name', {
          details: { cluster: clusterId },
        });
      await updateConfigState(deps.configDir, (s) => {
        s.namespaces[clusterId] = clean;
      });
      emit({ type: 'ray-clusters-changed', clusterId });
      const { state, entry } = await clients.entryOf(clusterId);
      return summaryOf(entry, state);
    },

    async listRayClusters(clusterId: string, namespaces?: string[]): Promise<RayClusterList> {
      const kube = await clients.get(clusterId);
      const state = await readConfigState(deps.configDir);
      const chosen = namespaces?.length ? namespaces : (state.namespaces[clusterId] ?? [kube.namespace]);
      const list = await listRayClusters({ clusterId, namespaces: chosen }, { kube, logger: deps.logger });
      for (const item of list.items) {
        const connection = connections.summaryOf(item);
        if (connection) item.connection = connection;
      }
      return list;
    },

    async checkAccess(ref: RayClusterRef): Promise<AccessCheck> {
      const kube = await clients.get(ref.clusterId);
      return checkAccess(await getRayCluster(ref, kube), kube, await clients.username(ref.clusterId));
    },

    connect: (ref: RayClusterRef, options: ConnectOptions = {}): Promise<ConnectionSummary> =>
      connections.connect(ref, options),

    async disconnect(ref: RayClusterRef): Promise<DisconnectResult> {
      return { removed: await connections.disconnect(ref) };
    },

    async listConnections(): Promise<ConnectionSummary[]> {
      return connections.list();
    },

    async sessionEnv(ref: RayClusterRef): Promise<SessionEnv> {
      return connections.sessionEnv(ref);
    },

    rayToken: (ref: RayClusterRef) => connections.rayToken(ref),

    onEvent(listener: (event: RayConnectEvent) => void): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    async close(): Promise<void> {
      flows.cancelAll();
      await connections.disconnectAll();
    },
  };
  return api;
}
