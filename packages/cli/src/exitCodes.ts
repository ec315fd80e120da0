import type { ErrorCode } from '@ray-connect/shared';

/** Exit codes of `ray-connect` (documented in README.md). */
export const EXIT = {
  ok: 0,
  error: 1,
  usage: 2,
  signIn: 3,
  denied: 4,
  notFound: 5,
  unreachable: 6,
  notConnected: 7,
  portInUse: 8,
  interrupted: 130,
} as const;

export function exitCodeFor(code: ErrorCode): number {
  switch (code) {
    case 'BAD_REQUEST':
      return EXIT.usage;
    case 'SIGNED_OUT':
    case 'TOKEN_EXPIRED':
    case 'TOKEN_INVALID':
    case 'REFRESH_FAILED':
    case 'LOGIN_CANCELLED':
    case 'DEVICE_CODE_EXPIRED':
    case 'EXEC_PLUGIN_FAILED':
    case 'EXEC_PLUGIN_INTERACTIVE':
      return EXIT.signIn;
    case 'ACCESS_DENIED':
    case 'RAY_REJECTED_TOKEN':
    case 'RAY_NO_TOKEN_SENT':
      return EXIT.denied;
    case 'RAYCLUSTER_NOT_FOUND':
    case 'CONTEXT_NOT_FOUND':
    case 'KUBECONFIG_NOT_FOUND':
    case 'RAY_TOKEN_NOT_FOUND':
      return EXIT.notFound;
    case 'CLUSTER_UNREACHABLE':
    case 'IDP_UNREACHABLE':
    case 'RAY_UNREACHABLE':
    case 'PORT_FORWARD_FAILED':
    case 'TLS_UNTRUSTED':
    case 'RAYCLUSTER_NOT_READY':
      return EXIT.unreachable;
    case 'AGENT_UNAVAILABLE':
      return EXIT.notConnected;
    case 'PORT_IN_USE':
      return EXIT.portInUse;
    default:
      return EXIT.error;
  }
}
