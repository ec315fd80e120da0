// The public surface of @ray-connect/shared. Named exports only, grouped by topic.

// errors
export { ErrorCodes, isErrorCode } from './errors.js';
export type { ErrorCode, ErrorInfo } from './errors.js';

// the API both hosts use
export type {
  RayConnectApi,
  VersionInfo,
  SignInMethod,
  SecretStorageInfo,
  ClusterSummary,
  SignInState,
  AddClusterInput,
  SignInInput,
  SignInProgress,
  SignOutResult,
  RayClusterRef,
  RayAuthMode,
  RayTokenSource,
  RayClusterSummary,
  RayClusterList,
  AccessCheck,
  ConnectOptions,
  ConnectionSummary,
  DisconnectResult,
  SessionEnv,
  RayConnectEvent,
} from './api.js';

// agent protocol (ray-connect serve)
export { PROTOCOL_VERSION, AGENT_SECRET_ENV, MAX_BODY_BYTES, AGENT_METHODS, httpStatusFor } from './protocol.js';
export type { AgentReady, AgentMethod, CallRequest, CallResponse } from './protocol.js';
