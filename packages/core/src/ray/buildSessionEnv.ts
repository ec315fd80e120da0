import { RAY_ENV, type SessionEnv } from '@ray-connect/shared';
import { RayConnectError } from '../errors.js';
import type { Secret } from '../secret.js';

export interface SessionEnvInput {
  /** http://127.0.0.1:<forwarded dashboard port> (or the OpenShift route URL). */
  dashboardUrl: string;
  /** ray://127.0.0.1:<forwarded client port>, offered beside RAY_ADDRESS, never in it. */
  rayClientAddress?: string;
  /** Whether the client must send a token (Ray token mode or Kubernetes RBAC mode). */
  auth: boolean;
  token?: Secret;
  /** Put RAY_AUTH_TOKEN_PATH=<this 0600 file> instead of the token itself (the caller keeps the file current). */
  tokenFile?: string;
  tokenVersion: number;
  tokenExpiresAt?: number;
}

/**
 * The env to inject into a terminal or kernel the user connects: RAY_AUTH_MODE=token and RAY_AUTH_TOKEN (or
 * RAY_AUTH_TOKEN_PATH), and RAY_ADDRESS for the Jobs API. Clusters without auth get only RAY_ADDRESS.
 * It never writes ~/.ray/auth_token and never uses the historic mode value `k8s`.
 */
export function buildSessionEnv(input: SessionEnvInput): SessionEnv {
  const env: Record<string, string> = {};
  if (input.auth) {
    env[RAY_ENV.authMode] = 'token';
    if (input.tokenFile) env[RAY_ENV.authTokenPath] = input.tokenFile;
    else if (input.token && input.token.length > 0) env[RAY_ENV.authToken] = input.token.reveal();
    else
      throw new RayConnectError(
        'RAY_TOKEN_NOT_FOUND',
        'The cluster needs a Ray token and none is available',
        { fix: 'Connect again: ray-connect connect <cluster>' },
      );
  }
  env[RAY_ENV.address] = input.dashboardUrl;
  const result: SessionEnv = { env, tokenVersion: input.tokenVersion };
  if (input.rayClientAddress) result.rayClientAddress = input.rayClientAddress;
  if (input.tokenExpiresAt !== undefined) result.tokenExpiresAt = input.tokenExpiresAt;
  return result;
}
