import { caFix, NEUTRAL_CA_SETTINGS } from '@ray-connect/shared';
import { RayConnectError } from '../errors.js';
import { kubeRequestInfo } from './kubeRequestInfo.js';

/** The one place where failures talking to the API server become RayConnectErrors. */

const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'HOSTNAME_MISMATCH',
]);

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'EPROTO',
]);

export const WORKBENCH_CA_BUNDLE = '/etc/pki/tls/custom-certs/ca-bundle.crt';

/** A thrown fetch/socket error -> TLS_UNTRUSTED or CLUSTER_UNREACHABLE (or INTERNAL when unknown). */
export function mapNetworkError(e: unknown, server: string): RayConnectError {
  if (e instanceof RayConnectError) return e;
  const code = errorCodeOf(e);
  if (code !== undefined && TLS_CODES.has(code)) {
    const hostname = code === 'ERR_TLS_CERT_ALTNAME_INVALID' || code === 'HOSTNAME_MISMATCH';
    return new RayConnectError(
      'TLS_UNTRUSTED',
      hostname
        ? `The certificate of ${server} does not name this host (${code}).`
        : `The certificate of ${server} is not trusted (${code}).`,
      {
        fix: hostname
          ? `Connect with the host name the certificate was issued for, or set tls-server-name in the kubeconfig cluster.`
          : caFix('api-server', NEUTRAL_CA_SETTINGS),
        details: { url: server, tlsCode: code, ...(!hostname && { caFor: 'api-server' }) },
        cause: e,
      },
    );
  }
  if (code?.startsWith('ERR_OSSL')) {
    return new RayConnectError(
      'KUBECONFIG_INVALID',
      `The client certificate, key or CA for ${server} could not be loaded (${code}).`,
      {
        fix: 'Check client-certificate(-data), client-key(-data) and certificate-authority(-data) in the kubeconfig, or what the credential plugin returns.',
        details: { url: server, tlsCode: code },
        cause: e,
      },
    );
  }
  const timeout =
    code?.includes('TIMEOUT') ||
    code === 'ETIMEDOUT' ||
    (e as { name?: string } | null)?.name === 'TimeoutError';
  if (timeout || (code !== undefined && NETWORK_CODES.has(code))) {
    const why = timeout
      ? 'the connection timed out'
      : code === 'ENOTFOUND' || code === 'EAI_AGAIN'
        ? 'the host name does not resolve'
        : code === 'ECONNREFUSED'
          ? 'the connection was refused'
          : `network error ${code}`;
    return new RayConnectError('CLUSTER_UNREACHABLE', `Cannot reach the API server ${server}: ${why}.`, {
      fix: 'Check the server URL, your network or VPN, and HTTPS_PROXY/NO_PROXY; then retry.',
      details: { url: server, errno: code ?? 'timeout' },
      cause: e,
    });
  }
  const reason = innermostMessage(e);
  return new RayConnectError('CLUSTER_UNREACHABLE', `Cannot reach the API server ${server}: ${reason}.`, {
    fix: 'Check the server URL and your network; then retry.',
    details: { url: server },
    cause: e,
  });
}

function innermostMessage(e: unknown): string {
  let cur: unknown = e;
  for (let i = 0; i < 5 && cur instanceof Error && cur.cause instanceof Error; i++) cur = cur.cause;
  return cur instanceof Error ? cur.message : String(cur);
}

/** The first Node/undici error code found along `cause` chains and AggregateError members. */
export function errorCodeOf(e: unknown, depth = 0): string | undefined {
  if (typeof e !== 'object' || e === null || depth > 5) return undefined;
  const o = e as { code?: unknown; cause?: unknown; errors?: unknown };
  if (typeof o.code === 'string' && o.code !== '') return o.code;
  if (Array.isArray(o.errors))
    for (const inner of o.errors) {
      const c = errorCodeOf(inner, depth + 1);
      if (c) return c;
    }
  return errorCodeOf(o.cause, depth + 1);
}

export interface HttpFailure {
  server: string;
  method: string;
  path: string;
  query?: Record<string, string | undefined>;
  status: number;
  /** Parsed response body (a metav1.Status when the API server produced it). */
  body: unknown;
  /** The credential that was sent. */
  credentialDescription: string;
  credentialExpired: boolean;
}

/** A non-2xx answer -> TOKEN_EXPIRED / TOKEN_INVALID (401), ACCESS_DENIED (403), or a coded error carrying `details.status`. */
export function mapHttpError(f: HttpFailure): RayConnectError {
  const status = statusObject(f.body);
  const info = kubeRequestInfo(f.method, f.path, f.query);
  const apiMessage = status?.message;
  const base = { status: f.status, reason: status?.reason, url: f.server, path: f.path };
  if (f.status === 401) {
    if (f.credentialExpired) {
      return new RayConnectError(
        'TOKEN_EXPIRED',
        `Your sign-in to ${f.server} has expired (${f.credentialDescription}).`,
        {
          fix: 'Sign in again.',
          details: { ...base, credential: f.credentialDescription },
        },
      );
    }
    return new RayConnectError(
      'TOKEN_INVALID',
      `The API server ${f.server} did not accept the credentials (${f.credentialDescription}).`,
      {
        fix: 'Sign in again, or check that the token or certificate belongs to this cluster.',
        details: { ...base, credential: f.credentialDescription },
      },
    );
  }
  if (f.status === 403) {
    const parsed = parseForbidden(apiMessage);
    const verb = parsed.verb ?? info.verb;
    const resource = parsed.resource ?? qualified(info.resource, info.group);
    const namespace = parsed.namespace ?? info.namespace;
    const name = status?.details?.name ?? info.name;
    const what = `${verb} ${resource ?? 'this resource'}${name ? ` "${name}"` : ''}${namespace ? ` in namespace ${namespace}` : ''}`;
    return new RayConnectError(
      'ACCESS_DENIED',
      `Not allowed to ${what}${apiMessage ? `: ${apiMessage}` : ''}.`,
      {
        fix: `Ask a cluster admin for RBAC permission to ${verb} ${resource ?? 'this resource'}${namespace ? ` in namespace ${namespace}` : ''}.`,
        details: { ...base, verb, resource, namespace, name, user: parsed.user, apiMessage },
      },
    );
  }
  const code = f.status === 502 || f.status === 503 || f.status === 504 ? 'CLUSTER_UNREACHABLE' : 'INTERNAL';
  const text = apiMessage ?? `HTTP ${f.status}`;
  return new RayConnectError(
    code,
    `The API server ${f.server} answered ${f.status} to ${info.verb} ${f.path}: ${text}.`,
    {
      details: {
        ...base,
        verb: info.verb,
        resource: info.resource,
        namespace: info.namespace,
        name: info.name,
        apiMessage,
      },
    },
  );
}

interface StatusObject {
  message?: string;
  reason?: string;
  details?: { name?: string; kind?: string; group?: string };
}

function statusObject(body: unknown): StatusObject | undefined {
  if (typeof body !== 'object' || body === null || (body as { kind?: unknown }).kind !== 'Status')
    return undefined;
  const b = body as Record<string, unknown>;
  const d = typeof b.details === 'object' && b.details !== null ? (b.details as Record<string, unknown>) : {};
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  return {
    message: str(b.message),
    reason: str(b.reason),
    details: { name: str(d.name), kind: str(d.kind), group: str(d.group) },
  };
}

/** `... User "u" cannot list resource "pods" in API group "" in the namespace "ns"` -> parts. */
function parseForbidden(message: string | undefined): {
  verb?: string;
  resource?: string;
  namespace?: string;
  user?: string;
} {
  if (!message) return {};
  const m =
    /User "([^"]*)" cannot (\S+) resource "([^"]+)" in API group "([^"]*)"(?: in the namespace "([^"]+)")?/.exec(
      message,
    );
  if (!m) return {};
  const out: { verb?: string; resource?: string; namespace?: string; user?: string } = {
    user: m[1],
    verb: m[2],
    resource: qualified(m[3], m[4] ?? ''),
  };
  if (m[5]) out.namespace = m[5];
  return out;
}

function qualified(resource: string | undefined, group: string): string | undefined {
  if (resource === undefined) return undefined;
  return group ? `${resource}.${group}` : resource;
}
