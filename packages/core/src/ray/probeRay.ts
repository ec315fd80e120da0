import { request } from 'node:http';
import type { RayAuthMode } from '@ray-connect/shared';
import { RayConnectError } from '../errors.js';
import type { Secret } from '../secret.js';
import { tokenRequired } from './getRayToken.js';

export interface HttpAnswer {
  status: number;
  body: string;
}

/** Where a dashboard answers: a port on 127.0.0.1 (a forward), or host:port (the head pod, direct). */
export type DashboardTarget = number | { host: string; port: number };

/** One small GET to the dashboard (no keep-alive, bounded body). */
export function httpGet(
  target: DashboardTarget,
  path: string,
  headers: Record<string, string> = {},
  signal?: AbortSignal,
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: typeof target === 'number' ? '127.0.0.1' : target.host,
        port: typeof target === 'number' ? target : target.port,
        path,
        method: 'GET',
        headers: { ...headers, connection: 'close' },
        agent: false,
        timeout: 15_000,
        signal,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          if (size < 64 * 1024) chunks.push(c);
          size += c.length;
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('no answer within 15 s')));
    req.on('error', (e) =>
      reject(
        new RayConnectError(
          'RAY_UNREACHABLE',
          typeof target === 'number'
            ? `The Ray dashboard did not answer through the port-forward: ${e.message}`
            : `The Ray dashboard did not answer at ${target.host}:${target.port}: ${e.message}`,
          { cause: e },
        ),
      ),
    );
    req.end();
  });
}

/**
 * `GET /api/authentication_mode` (public): what the head itself says. 'token' or 'none'; undefined for Ray older than
 * 2.52 (404) or an unexpected answer. Throws RAY_UNREACHABLE when nothing answers.
 */
export async function probeAuthMode(
  port: DashboardTarget,
  signal?: AbortSignal,
): Promise<'token' | 'none' | undefined> {
  const answer = await httpGet(port, '/api/authentication_mode', {}, signal);
  if (answer.status >= 500)
    throw new RayConnectError(
      'RAY_UNREACHABLE',
      `The Ray dashboard answered ${answer.status} to /api/authentication_mode`,
    );
  if (answer.status !== 200) return undefined;
  try {
    const mode = (JSON.parse(answer.body) as { authentication_mode?: unknown }).authentication_mode;
    if (typeof mode === 'string') return mode.toLowerCase() === 'token' ? 'token' : 'none';
  } catch {
    // not JSON: an old or unusual dashboard
  }
  return undefined;
}

/**
 * Proves the token works: `GET /api/version` with `Authorization: Bearer <token>` through the forward.
 * 401 -> RAY_NO_TOKEN_SENT (RAY_TOKEN_NOT_FOUND "token required" for a cluster that names no auth); 403 -> RAY_REJECTED_TOKEN, saying which: a wrong/rotated Secret token (token mode)
 * or a missing `ray:write` (Kubernetes RBAC mode).
 */
export async function verifyRayToken(
  port: DashboardTarget,
  token: Secret | undefined,
  mode: RayAuthMode,
  cluster: { namespace: string; name: string },
  signal?: AbortSignal,
): Promise<void> {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token.reveal()}` } : {};
  const answer = await httpGet(port, '/api/version', headers, signal);
  const { namespace, name } = cluster;
  const details = { namespace, name, status: answer.status };
  if (answer.status === 200) return;
  if (answer.status === 401 && mode === 'none') throw tokenRequired(namespace, name);
  if (answer.status === 401)
    throw new RayConnectError('RAY_NO_TOKEN_SENT', `Ray cluster ${name} requires a token and none was sent`, {
      fix: `Set RAY_AUTH_MODE=token and RAY_AUTH_TOKEN in the client: eval "$(ray-connect env ${name} -n ${namespace})"`,
      details,
    });
  if (answer.status === 403) {
    if (mode === 'kubernetes')
      throw new RayConnectError(
        'RAY_REJECTED_TOKEN',
        `Ray cluster ${name} rejected your Kubernetes identity: you lack ray:write on rayclusters/${name} (group ray.io), or your token expired`,
        {
          fix: `Ask a namespace admin to run: kubectl create role ray-user-${name} -n ${namespace} --verb=ray:write --resource=rayclusters.ray.io --resource-name=${name} && kubectl create rolebinding ray-user-${name} -n ${namespace} --role=ray-user-${name} --user=<your user>. Ray caches allowed checks for 5 minutes.`,
          details,
        },
      );
    throw new RayConnectError(
      'RAY_REJECTED_TOKEN',
      `Ray cluster ${name} rejected the token from its Secret: the Secret's token is wrong or was rotated without restarting the Ray pods`,
      {
        fix: `Restart the Ray pods so they read the current Secret (kubectl delete pod -n ${namespace} -l ray.io/cluster=${name}), then connect again`,
        details,
      },
    );
  }
  if (answer.status === 404) return; // very old dashboards have no /api/version; the forward itself works
  throw new RayConnectError(
    'RAY_UNREACHABLE',
    `The Ray dashboard of ${name} answered ${answer.status} to /api/version`,
    { details },
  );
}
