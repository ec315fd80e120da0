import { isRayConnectError } from '../errors.js';

/**
 * HTTP status of a failed KubeClient request, as far as the error says (details.status / details.httpStatus),
 * plus the codes the KubeClient contract maps 401/403 to.
 */
export function kubeStatus(e: unknown): number | undefined {
  if (!isRayConnectError(e)) return undefined;
  const d = e.details ?? {};
  const status = d.status ?? d.httpStatus ?? d.statusCode;
  if (typeof status === 'number') return status;
  if (typeof status === 'string' && /^\d+$/.test(status)) return Number(status);
  if (e.code === 'ACCESS_DENIED') return 403;
  if (e.code === 'TOKEN_EXPIRED' || e.code === 'TOKEN_INVALID') return 401;
  if (/NOT_FOUND$/.test(e.code)) return 404;
  return undefined;
}

export function isNotFound(e: unknown): boolean {
  return kubeStatus(e) === 404;
}
