import type {
  ConnectOptions,
  ConnectionSummary,
  ErrorInfo,
  RayAuthMode,
  RayClusterRef,
  RayClusterSummary,
  SessionEnv,
} from '@ray-connect/shared';
import { RayConnectError } from '../errors.js';
import type { Clock } from '../ports/Clock.js';
import type { KubeClient } from '../ports/KubeClient.js';
import type { Logger } from '../ports/Logger.js';
import { buildSessionEnv } from './buildSessionEnv.js';
import { checkAccess } from './checkAccess.js';
import { createFrontGet, detectFronting, type FrontGet, verifyFronting } from './detectFronting.js';
import { nodeReadTextFile } from '../kube/readTextFile.js';
import { findHeadPod } from './findHeadPod.js';
import { forwardPort, type PortForward } from './forwardPort.js';
import { getRayCluster } from './getRayCluster.js';
import { getRayToken, type RayToken } from './getRayToken.js';
import { keepTokenFresh } from './keepTokenFresh.js';
import { openPortForward } from './openPortForward.js';
import { probeAuthMode, verifyRayToken } from './probeRay.js';
import { superviseHead } from './superviseHead.js';
import { removeTokenFile, tokenFilePath, writeTokenFile } from './tokenFile.js';

export interface ConnectRayClusterDeps {
  kube: KubeClient;
  clock: Clock;
  logger: Logger;
  /** Directory for RAY_AUTH_TOKEN_PATH files (0700). */
  tokenDir: string;
  /** The signed-in user's name, for the exact RBAC in access-denied messages. */
  username?: string | undefined;
  /** Every change of the connection's summary (state, token version). */
  onChange(summary: ConnectionSummary): void;
  /** GET through an OpenShift AI proxy (TLS: the ingress CA). Default: system roots, process env. */
  frontGet?: FrontGet;
  /** Supervisor tuning (tests). */
  watchIntervalMs?: number;
  backoff?: { initialMs: number; maxMs: number; attempts: number };
}

/** A live connection to one Ray cluster: forwards, token, env. */
export interface RayConnection {
  readonly ref: RayClusterRef;
  readonly cluster: RayClusterSummary;
  summary(): ConnectionSummary;
  sessionEnv(): SessionEnv;
  token(): RayToken | undefined;
  /**
   * Token mode (a Secret): reads the Secret again and, when it was rotated, takes the new token (token version + 1,
   * token file rewritten, onChange). Throws what reading it throws (a deleted Secret: RAY_TOKEN_NOT_FOUND).
   */
  recheckToken(): Promise<RayToken | undefined>;
  /** Stops forwards and refresh, removes the token file; says what it removed. */
  stop(): Promise<string[]>;
}

/**
 * Connect: read the RayCluster, get its token, forward the head's dashboard and client ports to 127.0.0.1 under a
 * supervisor (re-resolves the head pod and reconnects), then prove the path: the head's own auth mode, and
 * `/api/version` with the token (401/403 explained). OpenShift AI-fronted dashboards use the route URL instead.
 */
export async function connectRayCluster(
  ref: RayClusterRef,
  options: ConnectOptions,
  deps: ConnectRayClusterDeps,
): Promise<RayConnection> {
  const { kube, logger } = deps;
  const cluster = await getRayCluster(ref, kube);
  const front = (await detectFronting(kube, ref.namespace, logger)).get(ref.name);
  if (front) cluster.frontedBy = front;
  if (cluster.state === 'suspended')
    throw new RayConnectError('RAYCLUSTER_NOT_READY', `RayCluster ${ref.name} is suspended`, {
      fix: `Resume it: kubectl patch raycluster ${ref.name} -n ${ref.namespace} --type merge -p '{"spec":{"suspend":false}}'`,
      details: { ...ref },
    });
  if (!cluster.frontedBy && (cluster.state === 'provisioning' || cluster.state === 'failed')) {
    // KubeRay says the head is not ready: fail now unless a head pod runs anyway (the supervisor would otherwise
    // retry for minutes while connect() waits).
    await findHeadPod(kube, ref.namespace, ref.name, cluster.headPod).catch((e: unknown) => {
      if (!(e instanceof RayConnectError) || e.code !== 'RAYCLUSTER_NOT_READY') throw e;
      const why = cluster.stateReason ? `: ${cluster.stateReason}` : '';
      throw new RayConnectError(
        'RAYCLUSTER_NOT_READY',
        `RayCluster ${ref.name} is ${cluster.state}${why}; no head pod is running`,
        {
          fix: `Connect once it is ready: kubectl get raycluster ${ref.name} -n ${ref.namespace}; check the head pod: kubectl describe pods -n ${ref.namespace} -l ray.io/cluster=${ref.name},ray.io/node-type=head`,
          details: { ...ref, state: cluster.state },
        },
      );
    });
  }
  if (cluster.authMode === 'kubernetes' && !cluster.frontedBy) {
    // What the head will ask the API server (ray:write on this RayCluster): fail early with the exact RBAC.
    const access = await checkAccess(cluster, kube, deps.username);
    if (!access.allowed && access.error) throw errorFromInfo(access.error);
  }
  let token = cluster.frontedBy ? await frontToken(kube) : await getRayToken(cluster, kube);
  let authMode: RayAuthMode = cluster.authMode;
  let tokenVersion = 1;
  let since = deps.clock.now();
  let state: ConnectionSummary['state'] = 'connecting';
  let error: ErrorInfo | undefined;
  const refresh = new AbortController();
  const useFile = options.tokenFile ?? (authMode === 'kubernetes' && token?.expiresAt !== undefined);
  const tokenFile = useFile && token ? tokenFilePath(deps.tokenDir, ref) : undefined;
  if (tokenFile && token) await writeTokenFile(tokenFile, token.token);

  let dashboard: PortForward | undefined;
  let client: PortForward | undefined;
  const summary = (): ConnectionSummary => {
    const s: ConnectionSummary = { ...ref, state, authMode, tokenVersion, since };
    if (cluster.frontedBy) s.dashboardUrl = cluster.frontedBy.url;
    else if (dashboard) s.dashboardUrl = `http://127.0.0.1:${dashboard.localPort}`;
    if (client) s.clientAddress = `ray://127.0.0.1:${client.localPort}`;
    if (token?.expiresAt !== undefined) s.tokenExpiresAt = token.expiresAt;
    if (error) s.error = error;
    return s;
  };
  const changed = (next: ConnectionSummary['state'], e?: ErrorInfo) => {
    state = next;
    error = e;
    since = deps.clock.now();
    deps.onChange(summary());
  };

  const supervisor = cluster.frontedBy
    ? undefined
    : superviseHead({
        resolve: async () => {
          const head = await findHeadPod(kube, ref.namespace, ref.name, cluster.headPod);
          return head.uid ? { pod: head.name, uid: head.uid } : { pod: head.name };
        },
        probe: async (signal) => {
          if (dashboard) await probeAuthMode(dashboard.localPort, signal);
        },
        onState: (s, e) => changed(s, e),
        clock: deps.clock,
        logger,
        ...(deps.watchIntervalMs !== undefined && { watchIntervalMs: deps.watchIntervalMs }),
        ...(deps.backoff !== undefined && { backoff: deps.backoff }),
      });

  const stop = async (): Promise<string[]> => {
    refresh.abort();
    supervisor?.stop();
    const removed: string[] = [];
    for (const f of [dashboard, client]) {
      if (!f) continue;
      await f.close();
      removed.push(`port-forward 127.0.0.1:${f.localPort} -> ${ref.name}:${f.remotePort}`);
    }
    if (tokenFile && (await removeTokenFile(tokenFile))) removed.push(`token file ${tokenFile}`);
    if (state !== 'disconnected') changed('disconnected');
    return removed;
  };

  try {
    if (cluster.frontedBy)
      await verifyFronting(
        cluster.frontedBy,
        token?.token,
        ref,
        deps.frontGet ?? createFrontGet({ env: process.env, readFile: nodeReadTextFile, logger }),
        deps.username,
      );
    if (supervisor) {
      const fwdDeps = {
        target: () => supervisor.target(),
        open: (pod: string, port: number) => openPortForward(kube, ref.namespace, pod, port),
        onStreamError: (pod: string, e: RayConnectError) => supervisor.reportBroken(pod, e),
        logger,
      };
      dashboard = await forwardPort(
        {
          label: 'dashboard',
          remotePort: cluster.ports.dashboard ?? 8265,
          localPort: options.dashboardPort ?? 0,
        },
        fwdDeps,
      );
      client = await forwardPort(
        { label: 'client', remotePort: cluster.ports.client ?? 10001, localPort: options.clientPort ?? 0 },
        fwdDeps,
      );
      await supervisor.started;
      if (supervisor.state === 'failed')
        throw new RayConnectError(
          supervisor.error?.code ?? 'PORT_FORWARD_FAILED',
          supervisor.error?.message ?? 'The port-forward failed',
          { ...(supervisor.error?.fix !== undefined && { fix: supervisor.error.fix }), details: { ...ref } },
        );
      const headSays = await probeAuthMode(dashboard.localPort);
      if (headSays === 'none' && authMode !== 'none') {
        logger.warn('the head says auth is disabled; connecting without a token', { ...ref });
        authMode = 'none';
        token = undefined;
      } else if (headSays === 'token' && (authMode === 'none' || authMode === 'unknown')) {
        authMode = cluster.tokenSource.kind === 'kubernetes-identity' ? 'kubernetes' : 'token';
        token ??= await getRayToken({ ...cluster, authMode }, kube);
      }
      if (authMode !== 'none') await verifyRayToken(dashboard.localPort, token?.token, authMode, ref);
    }
  } catch (e) {
    await stop();
    throw e;
  }
  if (summary().state !== 'ready') changed(supervisor ? supervisor.state : 'ready');

  if (token?.expiresAt !== undefined && (authMode === 'kubernetes' || cluster.frontedBy)) {
    void keepTokenFresh(
      token,
      {
        kube,
        clock: deps.clock,
        logger,
        onToken: async (next) => {
          token = next;
          tokenVersion += 1;
          if (tokenFile) await writeTokenFile(tokenFile, next.token);
          deps.onChange(summary());
        },
      },
      refresh.signal,
    );
  }

  return {
    ref,
    cluster,
    summary,
    token: () => token,
    recheckToken: async () => {
      if (cluster.frontedBy || authMode === 'none' || cluster.tokenSource.kind !== 'secret') return token;
      const next = await getRayToken({ ...cluster, authMode }, kube);
      if (next && !(token && next.token.equals(token.token))) {
        token = next;
        tokenVersion += 1;
        if (tokenFile) await writeTokenFile(tokenFile, next.token);
        logger.info('Ray token changed in its Secret; using the new one', { ...ref, tokenVersion });
        deps.onChange(summary());
      }
      return token;
    },
    sessionEnv: () => {
      const s = summary();
      return buildSessionEnv({
        dashboardUrl: s.dashboardUrl ?? '',
        ...(s.clientAddress !== undefined && { rayClientAddress: s.clientAddress }),
        // An OpenShift AI proxy in front wants the user's token even when Ray itself has no auth.
        auth: authMode !== 'none' || cluster.frontedBy !== undefined,
        ...(token && { token: token.token }),
        ...(tokenFile && { tokenFile }),
        tokenVersion,
        ...(token?.expiresAt !== undefined && { tokenExpiresAt: token.expiresAt }),
      });
    },
    stop,
  };
}

function errorFromInfo(info: ErrorInfo): RayConnectError {
  return new RayConnectError(info.code, info.message, {
    ...(info.fix !== undefined && { fix: info.fix }),
    ...(info.details !== undefined && { details: info.details }),
  });
}

/** OpenShift AI proxies authorize the user's own Kubernetes token. */
async function frontToken(kube: KubeClient): Promise<RayToken | undefined> {
  const bearer = await kube.bearerToken();
  if (!bearer) return undefined;
  return bearer.expiresAt === undefined
    ? { token: bearer.token }
    : { token: bearer.token, expiresAt: bearer.expiresAt };
}
