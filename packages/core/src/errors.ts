import type { ErrorCode, ErrorInfo } from '@ray-connect/shared';

/**
 * The one error type of the core. `code` is stable; `message` is one line a person can read;
 * `fix` is the exact thing to do. Library errors are mapped to this in one place per boundary
 * and keep the original as `cause` (never shown, never holding a secret in its message).
 */
export class RayConnectError extends Error {
  override readonly name = 'RayConnectError';
  readonly code: ErrorCode;
  readonly fix: string | undefined;
  readonly details: ErrorInfo['details'];

  constructor(
    code: ErrorCode,
    message: string,
    options: { fix?: string; details?: ErrorInfo['details']; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.fix = options.fix;
    this.details = options.details;
  }

  toInfo(): ErrorInfo {
    const info: ErrorInfo = { code: this.code, message: this.message };
    if (this.fix !== undefined) info.fix = this.fix;
    if (this.details !== undefined) info.details = this.details;
    return info;
  }
}

export function isRayConnectError(e: unknown, code?: ErrorCode): e is RayConnectError {
  return e instanceof RayConnectError && (code === undefined || e.code === code);
}

/** Wraps anything thrown into a RayConnectError, saying what was being attempted. */
export function wrapError(e: unknown, attempting: string, code: ErrorCode = 'INTERNAL'): RayConnectError {
  if (e instanceof RayConnectError) return e;
  const reason = e instanceof Error ? e.message : String(e);
  return new RayConnectError(code, `${attempting} failed: ${reason}`, { cause: e });
}
