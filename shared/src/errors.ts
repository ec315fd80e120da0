/**
 * Stable error codes. Hosts decide by code, never by message text.
 * The core attaches a code to every failure it reports; `messages.ts` turns a code into words and buttons.
 */
export const ErrorCodes = [
  'KUBECONFIG_INVALID',
  'KUBECONFIG_NOT_FOUND',
  'CONTEXT_NOT_FOUND',
  'TLS_UNTRUSTED',
  'CLUSTER_UNREACHABLE',
  'TOKEN_INVALID',
  'TOKEN_EXPIRED',
  'SIGNED_OUT',
  'ACCESS_DENIED',
  'EXEC_PLUGIN_FAILED',
  'EXEC_PLUGIN_INTERACTIVE',
  'IDP_UNREACHABLE',
  'IDP_ERROR',
  'DEVICE_CODE_EXPIRED',
  'LOGIN_CANCELLED',
  'LOGIN_NOT_FOUND',
  'LOGIN_STATE_MISMATCH',
  'REFRESH_FAILED',
  'KEYCHAIN_UNAVAILABLE',
  'KEYCHAIN_LOCKED',
  'SECRET_STORE_FAILED',
  'RAYCLUSTER_NOT_FOUND',
  'RAYCLUSTER_NOT_READY',
  'RAY_TOKEN_NOT_FOUND',
  'RAY_REJECTED_TOKEN',
  'RAY_NO_TOKEN_SENT',
  'RAY_UNREACHABLE',
  'PORT_IN_USE',
  'PORT_FORWARD_FAILED',
  'AGENT_UNAVAILABLE',
  'VERSION_MISMATCH',
  'BAD_REQUEST',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ErrorCodes)[number];

/** The serialisable shape of an error as it crosses a process boundary (agent protocol, logs). Never holds a secret. */
export interface ErrorInfo {
  code: ErrorCode;
  /** One line: what happened and why. Already safe to show. */
  message: string;
  /** The exact fix, when known: a command, a setting, an RBAC request. */
  fix?: string;
  /** Structured facts the message was built from (file, field, url, namespace, name, verb...). */
  details?: Record<string, string | number | boolean | undefined>;
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (ErrorCodes as readonly string[]).includes(value);
}
