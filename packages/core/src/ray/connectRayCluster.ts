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
import { choosePath, connectPathSetting } from './choosePath.js';
import { directHead } from './directHead.js';
import { findHeadPod } from './findHeadPod.js';
import { forwardedHead } from './forwardedHead.js';
import { getRayCluster } from './getRayCluster.js';
import { getRayToken, type RayToken } from './getRayToken.js';
import { frontedHead, type HeadPath } from './headPath.js';
import { keepTokenFresh } from './keepTokenFresh.js';
import { createPeerCheck, type PeerCheck } from './peerCheck.js';
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
  /** RAY_CONNECT_PATH, RAY_CONNECT_PEER_CHECK, KUBERNETES_SERVICE_HOST (default process.env). */
  env?: Record<string, string | undefined>;
  /** Who may use the local forwards (default: createPeerCheck, the user's own uid). */
  peerCheck?: PeerCheck;
  /** Supervisor tuning (tests). */
  watchIntervalMs?: number;
  backoff?: { initialMs: number; maxMs: number; attempts: number };
}

/** RAY_CONNECT_FIRST_ANSWER_S: seconds to wait for the head's first answer (default 30). */
function firstAnswerMs(env: Record<string, string | undefined>): number | undefined {
  const seconds = Number(env.RAY_CONNECT_FIRST_ANSWER_S);
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : undefined;
}

/** A live connection to one Ray cluster: its path (forward, direct or fronted), token, env. */
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
 * Connect: read the RayCluster, get its token, choose the path (choosePath: the head pod's IP directly, or the
 * dashboard and client ports forwarded to 127.0.0.1), keep the head resolved under a supervisor (re-resolves the
 * head pod and reconnects), then prove the path: the head's own auth mode, and `/api/version` with the token
 * (401/403 explained). OpenShift AI-fronted dashboards use the route URL instead.
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
        `RayCluster ${ref.name} is ${cluster.state}${why}; no head pod is running${typeof e.details?.waiting === 'string' ? ` (${e.details.waiting})` : ''}`,
        {
          fix:
            cluster.state === 'failed'
              ? `Fix the RayCluster spec (KubeRay will not retry by itself until it changes): kubectl describe raycluster ${ref.name} -n ${ref.namespace} shows KubeRay's events`
              : `Connect once it is ready: kubectl get raycluster ${ref.name} -n ${ref.namespace}; check the head pod: kubectl describe pods -n ${ref.namespace} -l ray.io/cluster=${ref.name},ray.io/node-type=head`,
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

  const env = deps.env ?? process.env;
  const answerMs = firstAnswerMs(env);
  const choice = cluster.frontedBy
    ? undefined
    : await choosePath(connectPathSetting(env, options.path), cluster, { kube, env, logger });
  let path: HeadPath | undefined = cluster.frontedBy ? frontedHead(cluster.frontedBy.url) : undefined;
  let lastUrl: string | undefined;
  const summary = (): ConnectionSummary => {
    const s: ConnectionSummary = {
      ...ref,
      state,
      path: path?.kind ?? choice?.kind ?? 'forward',
      authMode,
      tokenVersion,
      since,
    };
    const dashboardUrl = path?.dashboardUrl();
    const clientAddress = path?.clientAddress();
    if (dashboardUrl) s.dashboardUrl = dashboardUrl;
    if (clientAddress) s.clientAddress = clientAddress;
    if (token?.expiresAt !== undefined) s.tokenExpiresAt = token.expiresAt;
    if (error) s.error = error;
    return s;
  };
  const changed = (next: ConnectionSummary['state'], e?: ErrorInfo) => {
    state = next;
    error = e;
    since = deps.clock.now();
    // direct: a replaced head pod has a new IP, so the env changed: hosts re-inject on a new version
    const url = path?.dashboardUrl();
    if (path?.kind === 'direct' && lastUrl && url && url !== lastUrl) tokenVersion += 1;
    if (url) lastUrl = url;
    deps.onChange(summary());
  };

  const supervisor = cluster.frontedBy
    ? undefined
    : superviseHead({
        resolve: async () => {
          const head = await findHeadPod(kube, ref.namespace, ref.name, cluster.headPod);
          if (choice?.kind === 'direct' && !head.ip)
            throw new RayConnectError('RAY_UNREACHABLE', `The head pod ${head.name} has no IP yet`);
          return { pod: head.name, ...(head.uid && { uid: head.uid }), ...(head.ip && { ip: head.ip }) };
        },
        probe: async (signal) => {
          const target = path?.probeTarget();
          if (target !== undefined) await probeAuthMode(target, signal);
        },
        onState: (s, e) => changed(s, e),
        clock: deps.clock,
        logger,
        ...(deps.watchIntervalMs !== undefined && { watchIntervalMs: deps.watchIntervalMs }),
        ...(deps.backoff !== undefined && { backoff: deps.backoff }),
        ...(answerMs !== undefined && { firstAnswerMs: answerMs }),
      });

  const stop = async (): Promise<string[]> => {
    refresh.abort();
    supervisor?.stop();
    const removed = path ? await path.stop() : [];
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
      path =
        choice?.kind === 'direct'
          ? directHead(ref, cluster, supervisor)
          : await forwardedHead(ref, cluster, options, {
              kube,
              supervisor,
              logger,
              allowPeer: deps.peerCheck ?? defaultPeerCheck(env, logger),
            });
      await supervisor.started;
      if (supervisor.state === 'failed') {
        const missed = choice?.directMissed
          ? `; the direct path was not reachable either (${choice.directMissed})`
          : '';
        throw new RayConnectError(
          supervisor.error?.code ?? 'PORT_FORWARD_FAILED',
          (supervisor.error?.message ?? 'The port-forward failed') + missed,
          { ...(supervisor.error?.fix !== undefined && { fix: supervisor.error.fix }), details: { ...ref } },
        );
      }
      const target = path.probeTarget();
      if (target === undefined)
        throw new RayConnectError('RAY_UNREACHABLE', `The head of ${ref.name} has no address`);
      const headSays = await probeAuthMode(target);
      if (headSays === 'none' && authMode !== 'none') {
        logger.warn('the head says auth is disabled; connecting without a token', { ...ref });
        authMode = 'none';
        token = undefined;
      } else if (headSays === 'token' && (authMode === 'none' || authMode === 'unknown')) {
        authMode = cluster.tokenSource.kind === 'kubernetes-identity' ? 'kubernetes' : 'token';
        token ??= await getRayToken({ ...cluster, authMode }, kube);
      }
      // Ray older than 2.52 cannot say its mode; newer heads may require a token the RayCluster never names.
      if (authMode !== 'none' || headSays === undefined)
        await verifyRayToken(target, token?.token, authMode, ref);
      lastUrl = path.dashboardUrl();
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

let sharedPeerCheck: { env: Record<string, string | undefined>; check: PeerCheck } | undefined;

/** One peer check per process environment: its one-time warnings are said once, not per connection. */
function defaultPeerCheck(env: Record<string, string | undefined>, logger: Logger): PeerCheck {
  if (sharedPeerCheck?.env !== env) sharedPeerCheck = { env, check: createPeerCheck({ env, logger }) };
  return sharedPeerCheck.check;
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
