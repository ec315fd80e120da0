import { fetch as undiciFetch, type Dispatcher } from 'undici';
import { RayConnectError } from '../errors.js';
import type { Clock } from '../ports/Clock.js';
import { systemClock } from '../ports/Clock.js';
import type { KubeClient, KubeRequest, KubeWebSocketOptions } from '../ports/KubeClient.js';
import type { Logger } from '../ports/Logger.js';
import { silentLogger } from '../ports/Logger.js';
import { buildDispatcher } from './buildDispatcher.js';
import type { Credential, CredentialSource } from './credential.js';
import { mapHttpError, mapNetworkError } from './mapKubeError.js';
import { checkProxyScheme, proxyFor } from './proxyFor.js';
import { ProxyTunnelAgent } from './proxyTunnelAgent.js';

/** The fetch the client uses: undici's by default; tests pass a fake. */
export type KubeFetch = (url: string, init: KubeFetchInit) => Promise<KubeFetchResponse>;

export interface KubeFetchInit {
  method: string;
  headers: Record<string, string>;
  body?: string;
  signal: AbortSignal;
  dispatcher: Dispatcher;
}

export interface KubeFetchResponse {
  status: number;
  text(): Promise<string>;
}

export interface CreateKubeClientOptions {
  server: string;
  /** PEM of the CA(s) to trust for this server (replaces the system roots). See resolveCa(). */
  ca?: string | Buffer | (string | Buffer)[];
  /** Security risk: turns TLS verification off. A named opt-in; logs a warning. */
  insecureSkipTlsVerify?: boolean;
  tlsServerName?: string;
  credential: CredentialSource;
  namespace?: string;
  logger?: Logger;
  fetch?: KubeFetch;
  /** Where HTTPS_PROXY / NO_PROXY are read. Default: process.env. */
  env?: Record<string, string | undefined>;
  /** kubeconfig `proxy-url`: wins over HTTPS_PROXY. */
  proxyUrl?: string;
  clock?: Clock;
  /** Per request. Default 30 s. */
  timeoutMs?: number;
}

const defaultFetch: KubeFetch = (url, init) => undiciFetch(url, init);

/** A KubeClient over HTTPS (undici): JSON requests, 401 -> invalidate and retry once, errors mapped in mapKubeError. */
export function createKubeClient(options: CreateKubeClientOptions): KubeClient {
  const logger = options.logger ?? silentLogger;
  const clock = options.clock ?? systemClock;
  const doFetch = options.fetch ?? defaultFetch;
  const server = options.server.replace(/\/+$/, '');
  let serverUrl: URL;
  try {
    serverUrl = new URL(server);
  } catch (e) {
    throw new RayConnectError(
      'KUBECONFIG_INVALID',
      `The API server URL is not valid: ${JSON.stringify(server)}.`,
      { details: { url: server }, cause: e },
    );
  }
  const rejectUnauthorized = options.insecureSkipTlsVerify !== true;
  if (!rejectUnauthorized) {
    logger.warn('TLS verification is turned off for this cluster (insecureSkipTlsVerify): a security risk', {
      server,
    });
  }
  const proxy = options.proxyUrl ?? proxyFor(serverUrl, options.env ?? process.env);
  if (proxy)
    checkProxyScheme(
      proxy,
      options.proxyUrl !== undefined
        ? 'the kubeconfig cluster proxy-url'
        : serverUrl.protocol === 'https:'
          ? 'HTTPS_PROXY'
          : 'HTTP_PROXY',
    );
  if (proxy) logger.debug('using a proxy for the API server', { server, proxy: redactUserinfo(proxy) });

  let wsAgent: ProxyTunnelAgent | undefined;
  let current: { cert: unknown; key: string | undefined; dispatcher: Dispatcher } | undefined;
  const dispatcherFor = (credential: Credential): Dispatcher => {
    const cert = credential.clientCert?.cert;
    const key = credential.clientCert?.key.reveal();
    if (current && current.cert === cert && current.key === key) return current.dispatcher;
    const old = current?.dispatcher;
    const dispatcher = buildDispatcher(
      {
        rejectUnauthorized,
        ...(options.ca !== undefined ? { ca: options.ca } : {}),
        ...(cert !== undefined ? { cert } : {}),
        ...(key !== undefined ? { key } : {}),
        ...(options.tlsServerName ? { servername: options.tlsServerName } : {}),
      },
      proxy,
    );
    current = { cert, key, dispatcher };
    if (old) void old.close().catch(() => undefined);
    return dispatcher;
  };

  const send = async (req: KubeRequest, credential: Credential) => {
    const method = req.method ?? 'GET';
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (credential.token) headers.Authorization = `Bearer ${credential.token.reveal()}`;
    let body: string | undefined;
    if (req.body !== undefined) {
      body = JSON.stringify(req.body);
      headers['Content-Type'] = method === 'PATCH' ? 'application/merge-patch+json' : 'application/json';
    }
    const timeout = AbortSignal.timeout(options.timeoutMs ?? 30_000);
    const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout;
    const url = server + req.path + queryString(req.query);
    try {
      const res = await doFetch(url, {
        method,
        headers,
        signal,
        dispatcher: dispatcherFor(credential),
        ...(body !== undefined ? { body } : {}),
      });
      const text = await res.text();
      return { status: res.status, text };
    } catch (e) {
      if (req.signal?.aborted) throw req.signal.reason;
      throw mapNetworkError(timeout.aborted ? timeout.reason : e, server);
    }
  };

  const request = async <T>(req: KubeRequest): Promise<T> => {
    const method = req.method ?? 'GET';
    let credential = await options.credential.get(req.signal);
    req.signal?.throwIfAborted();
    let res = await send(req, credential);
    if (res.status === 401 && options.credential.invalidate) {
      logger.debug('API server answered 401; refreshing the credential and retrying once', {
        server,
        credential: options.credential.description,
      });
      options.credential.invalidate();
      credential = await options.credential.get(req.signal);
      res = await send(req, credential);
    }
    const parsed = parseJson(res.text);
    if (res.status >= 200 && res.status < 300) {
      if (parsed.ok) return parsed.value as T;
      throw new RayConnectError(
        'INTERNAL',
        `The API server ${server} answered ${method} ${req.path} with a body that is not JSON.`,
        {
          details: { url: server, path: req.path, status: res.status },
        },
      );
    }
    if (res.status === 401) options.credential.invalidate?.();
    throw mapHttpError({
      server,
      method,
      path: req.path,
      status: res.status,
      body: parsed.ok ? parsed.value : undefined,
      credentialDescription: options.credential.description,
      credentialExpired: credential.expiresAt !== undefined && credential.expiresAt <= clock.now(),
      ...(req.query ? { query: req.query } : {}),
    });
  };

  return {
    server,
    namespace: options.namespace || 'default',
    request,
    async bearerToken() {
      const credential = await options.credential.get();
      if (!credential.token) return undefined;
      return credential.expiresAt === undefined
        ? { token: credential.token }
        : { token: credential.token, expiresAt: credential.expiresAt };
    },
    async webSocketOptions(): Promise<KubeWebSocketOptions> {
      const credential = await options.credential.get();
      const ws: KubeWebSocketOptions = { headers: {}, rejectUnauthorized };
      if (credential.token) ws.headers.Authorization = `Bearer ${credential.token.reveal()}`;
      if (options.ca !== undefined)
        ws.ca = Array.isArray(options.ca) ? options.ca.map(String).join('\n') : options.ca;
      if (credential.clientCert) {
        ws.cert = credential.clientCert.cert;
        ws.key = credential.clientCert.key.reveal();
      }
      if (options.tlsServerName) ws.servername = options.tlsServerName;
      if (proxy) ws.agent = wsAgent ??= new ProxyTunnelAgent(proxy);
      return ws;
    },
  };
}

function queryString(query: Record<string, string | undefined> | undefined): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.append(k, v);
  const s = params.toString();
  return s ? `?${s}` : '';
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  if (text.trim() === '') return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

function redactUserinfo(url: string): string {
  try {
    const u = new URL(url);
    if (u.username || u.password) {
      u.username = '';
      u.password = '';
    }
    return u.toString();
  } catch {
    return '[proxy]';
  }
}
