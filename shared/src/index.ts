// The public surface of @ray-connect/shared. Named exports only, grouped by topic.

// errors
export { ErrorCodes, isErrorCode } from './errors.js';
export type { ErrorCode, ErrorInfo } from './errors.js';
