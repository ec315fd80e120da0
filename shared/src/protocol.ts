import type { ErrorCode, ErrorInfo } from './errors.js';
import type { RayConnectApi } from './api.js';

/**
 * The agent's HTTP protocol (`ray-connect serve`), spoken by the JupyterLab server extension's proxy and
 * by its frontend through that proxy.
 *
 * Start: the parent spawns `ray-connect serve --port 0` with the per-start secret in the environment variable
 * AGENT_SECRET_ENV (never argv). When ready the agent writes ONE line of JSON to stdout: AgentReady.
 * It listens on 127.0.0.1 only and exits when its stdin closes (the parent died) or on SIGTERM.
 *
 * Every request carries `Authorization: Bearer <secret>`; without it: 401, nothing done.
 *   POST /v1/call/<method>   body: { "args": [...] } (the RayConnectApi method's arguments, in order)
 *                            200: { "result": ... }   4xx/5xx: { "error": ErrorInfo }
 *   GET  /v1/events          text/event-stream; each `data:` line is one RayConnectEvent as JSON
 *   GET  /v1/version         VersionInfo (also allowed as a call)
 * Request bodies over MAX_BODY_BYTES: 413. Unknown method: 404. Requests with an Origin header: 403
 * (the agent is only for its parent process, never for browsers directly).
 */
export const PROTOCOL_VERSION = 1;
export const AGENT_SECRET_ENV = 'RAY_CONNECT_AGENT_SECRET';
export const MAX_BODY_BYTES = 1024 * 1024;

/** The env names a connected terminal or kernel gets (the core builds them, the hosts hand them out and take them back). */
export const RAY_ENV = {
  authMode: 'RAY_AUTH_MODE',
  authToken: 'RAY_AUTH_TOKEN',
  authTokenPath: 'RAY_AUTH_TOKEN_PATH',
  address: 'RAY_ADDRESS',
} as const;
export const RAY_ENV_KEYS: readonly string[] = Object.values(RAY_ENV);

export interface AgentReady {
  ready: true;
  port: number;
  version: string;
  protocol: number;
  pid: number;
}

/** The methods callable over /v1/call/<method>: every RayConnectApi method except onEvent (that is /v1/events). */
export type AgentMethod = Exclude<keyof RayConnectApi, 'onEvent'>;

export const AGENT_METHODS: readonly AgentMethod[] = [
  'version',
  'listClusters',
  'addCluster',
  'removeCluster',
  'beginSignIn',
  'completeSignIn',
  'finishBrowserSignIn',
  'cancelSignIn',
  'signOut',
  'setNamespaces',
  'listRayClusters',
  'checkAccess',
  'connect',
  'disconnect',
  'listConnections',
  'sessionEnv',
  'rayToken',
];

export interface CallRequest {
  args: unknown[];
}
export type CallResponse = { result: unknown } | { error: ErrorInfo };

/** HTTP status for an error code: one table, used by the agent and the Jupyter server extension. */
export function httpStatusFor(code: ErrorCode): number {
  switch (code) {
    case 'BAD_REQUEST':
    case 'KUBECONFIG_INVALID':
    case 'LOGIN_STATE_MISMATCH':
      return 400;
    case 'SIGNED_OUT':
    case 'TOKEN_EXPIRED':
    case 'TOKEN_INVALID':
      return 401;
    case 'ACCESS_DENIED':
    case 'RAY_REJECTED_TOKEN':
      return 403;
    case 'RAYCLUSTER_NOT_FOUND':
    case 'CONTEXT_NOT_FOUND':
    case 'KUBECONFIG_NOT_FOUND':
    case 'RAY_TOKEN_NOT_FOUND':
    case 'LOGIN_NOT_FOUND':
      return 404;
    case 'VERSION_MISMATCH':
    case 'PORT_IN_USE':
      return 409;
    case 'LOGIN_CANCELLED':
      return 499;
    case 'CLUSTER_UNREACHABLE':
    case 'IDP_UNREACHABLE':
    case 'RAY_UNREACHABLE':
    case 'AGENT_UNAVAILABLE':
      return 502;
    default:
      return 500;
  }
}
