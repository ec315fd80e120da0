import type { Configuration, CustomFetch } from 'openid-client';
import * as oidc from 'openid-client';
import type { Secret } from '../secret.js';
import { idpFetch } from './http.js';
import { mapIdpError } from './idpErrors.js';

/** How to reach one OIDC identity provider as one client. Plain data, except the optional client secret. */
export interface IdpSettings {
  issuer: string;
  clientId: string;
  /** Only for confidential clients; public clients (the usual case for a CLI) have none. */
  clientSecret?: Secret;
  /** PEM of the CA that signed the issuer's certificate. */
  ca?: string;
  /** Security risk: skips TLS verification of the issuer. A named opt-in only. */
  insecureSkipTlsVerify?: boolean;
  /** Allows an `http:` issuer. For tests against a local fake only; ignored for https issuers. */
  allowInsecureRequests?: boolean;
  /** Replaces the HTTP client (tests). */
  fetch?: CustomFetch;
}

/** The scopes we ask for: a refresh token (offline_access) and the claims Kubernetes maps (email, groups). */
export const DEFAULT_SCOPES = ['openid', 'profile', 'email', 'offline_access', 'groups'];

/** OIDC discovery at `<issuer>/.well-known/openid-configuration`, with our CA, proxy and error mapping. */
export async function discoverIdp(idp: IdpSettings): Promise<Configuration> {
  const url = new URL(idp.issuer);
  const insecure = idp.allowInsecureRequests === true && url.protocol === 'http:';
  const tls = {
    ...(idp.ca !== undefined ? { ca: idp.ca } : {}),
    ...(idp.insecureSkipTlsVerify ? { insecureSkipTlsVerify: true } : {}),
  };
  const base = idp.fetch ?? idpFetch(tls);
  let deviceEndpoint: string | undefined;
  // Known after discovery; the device authorization answer gets its `interval: 0` removed (see deviceIntervalZero).
  const fetcher: CustomFetch = async (input, init) => {
    const response = await base(input, init);
    return deviceEndpoint !== undefined && input === deviceEndpoint ? deviceIntervalZero(response) : response;
  };
  try {
    const config = await oidc.discovery(url, idp.clientId, undefined, clientAuth(idp), {
      [oidc.customFetch]: fetcher,
      ...(insecure ? { execute: [oidc.allowInsecureRequests] } : {}),
      timeout: 30,
    });
    deviceEndpoint = config.serverMetadata().device_authorization_endpoint;
    return config;
  } catch (e) {
    throw mapIdpError(e, idp.issuer, 'Discovering the identity provider');
  }
}

/**
 * Some providers answer the device authorization with `interval: 0`, which openid-client (oauth4webapi) rejects as
 * "invalid response encountered". RFC 8628 has no meaning for 0 (a minimum wait of nothing); it is treated as
 * absent, so the poll waits the RFC's default of 5 s (slow_down still adds 5 s).
 */
async function deviceIntervalZero(response: Response): Promise<Response> {
  if (!response.ok || !(response.headers.get('content-type') ?? '').includes('json')) return response;
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const headers = new Headers(response.headers);
  headers.delete('content-length');
  headers.delete('content-encoding');
  if (body && typeof body === 'object' && (body as { interval?: unknown }).interval === 0) {
    const rest: Record<string, unknown> = { ...(body as Record<string, unknown>) };
    delete rest.interval;
    return new Response(JSON.stringify(rest), { status: response.status, headers });
  }
  return new Response(text, { status: response.status, headers });
}

export function clientAuth(idp: { clientSecret?: Secret }): oidc.ClientAuth {
  return idp.clientSecret !== undefined ? oidc.ClientSecretPost(idp.clientSecret.reveal()) : oidc.None();
}

/** The non-secret part of an OIDC session: where to refresh it. */
export function idpInfo(
  input: IdpSettings & { clusterId: string },
  method: 'device' | 'browser',
  scopes: string[],
) {
  return {
    clusterId: input.clusterId,
    method,
    issuer: input.issuer,
    clientId: input.clientId,
    scopes,
    ...(input.ca !== undefined ? { idpCa: input.ca } : {}),
    ...(input.insecureSkipTlsVerify ? { insecureSkipTlsVerify: true } : {}),
    ...(input.allowInsecureRequests ? { allowInsecureRequests: true } : {}),
  };
}
