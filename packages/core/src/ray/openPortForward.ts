import type { ClientRequest, IncomingMessage } from 'node:http';
import { Agent } from 'node:https';
import { createSecureContext, type SecureContext } from 'node:tls';
import WebSocket from 'ws';
import { RayConnectError } from '../errors.js';
import type { KubeClient, KubeWebSocketOptions } from '../ports/KubeClient.js';
import { podsPath } from './kubeTypes.js';

export const PORT_FORWARD_PROTOCOL = 'v4.channel.k8s.io';

/**
 * An open port-forward websocket, and the frames that arrived with the handshake (the port headers often share
 * its TCP segment and are emitted before any later listener could attach): the bridge replays them first.
 */
export interface OpenedPortForward {
  ws: WebSocket;
  early: { data: Buffer; isBinary: boolean }[];
  /** Stops queueing into `early`; call before attaching your own 'message' listener. */
  detach(): void;
}

/**
 * Opens one port-forward websocket (`v4.channel.k8s.io`, the protocol of client-node's PortForward) to a pod
 * port through the API server, with the KubeClient's TLS and credentials. Resolves when open; rejects with a
 * RayConnectError naming what went wrong (pod gone, no permission, token expired, unreachable).
 *
 * Frames are masked with a zero key: masking protects browsers' proxies from script-chosen bytes, which this
 * client never sends, and skipping it avoids a copy of every uploaded chunk.
 */
export async function openPortForward(
  kube: KubeClient,
  namespace: string,
  pod: string,
  port: number,
  signal?: AbortSignal,
  /** Experimental: spdy/spdyPortForward.ts opens its tunnel with SPDY_TUNNEL_PROTOCOL. */
  protocol: string = PORT_FORWARD_PROTOCOL,
): Promise<OpenedPortForward> {
  const options = await kube.webSocketOptions();
  const url = new URL(kube.server.replace(/\/+$/, '') + podsPath(namespace, pod) + '/portforward');
  url.protocol = url.protocol === 'http:' ? 'ws:' : 'wss:';
  url.searchParams.set('ports', String(port));
  const target = `pod ${namespace}/${pod} port ${port}`;
  // Through a proxy its agent does the TLS from ca/cert/key; else one cached TLS context + session cache.
  const tls = options.agent === undefined && url.protocol === 'wss:' ? tlsFor(kube, options) : undefined;
  const agent = options.agent ?? tls?.agent;
  // ws offers only RFC 7230 tokens; the SPDY tunnel's protocol has a '/': offer it by header, map the answer.
  const wsProtocol = TOKEN.test(protocol) ? protocol : 'x-ray-connect-tunnel';
  const ws = new WebSocket(url, [wsProtocol], {
    ...(wsProtocol !== protocol && { finishRequest: offerProtocol(protocol, wsProtocol) }),
    headers: options.headers,
    ...(tls
      ? { secureContext: tls.secureContext }
      : {
          ...(options.ca !== undefined && { ca: options.ca }),
          ...(options.cert !== undefined && { cert: options.cert }),
          ...(options.key !== undefined && { key: options.key }),
        }),
    ...(options.servername !== undefined && { servername: options.servername }),
    rejectUnauthorized: options.rejectUnauthorized,
    ...(agent !== undefined && { agent: agent as never }),
    perMessageDeflate: false,
    generateMask: (mask: Buffer) => void mask.fill(0),
    handshakeTimeout: 30_000,
  });
  const early: OpenedPortForward['early'] = [];
  const queue = (data: Buffer, isBinary: boolean) => early.push({ data, isBinary });
  ws.on('message', queue);
  const opened: OpenedPortForward = { ws, early, detach: () => ws.off('message', queue) };
  return new Promise<OpenedPortForward>((resolve, reject) => {
    const fail = (error: RayConnectError) => {
      cleanup();
      ws.on('error', () => undefined);
      ws.terminate();
      reject(error);
    };
    const onAbort = () =>
      fail(
        new RayConnectError('PORT_FORWARD_FAILED', `Port-forward to ${target} was cancelled`, {
          details: { target },
        }),
      );
    const onOpen = () => {
      cleanup();
      if (ws.protocol !== wsProtocol) {
        ws.on('error', () => undefined);
        ws.terminate();
        reject(
          new RayConnectError(
            'PORT_FORWARD_FAILED',
            `The API server did not accept port-forward protocol ${protocol} for ${target}`,
            { details: { target } },
          ),
        );
      } else resolve(opened);
    };
    const onResponse = (_req: unknown, res: IncomingMessage) => {
      res.resume();
      fail(handshakeError(res.statusCode ?? 0, namespace, pod, target));
    };
    const onError = (e: Error) =>
      fail(
        new RayConnectError('CLUSTER_UNREACHABLE', `Port-forward to ${target} failed: ${e.message}`, {
          details: { target },
          cause: e,
        }),
      );
    const cleanup = () => {
      ws.off('open', onOpen);
      ws.off('unexpected-response', onResponse);
      ws.off('error', onError);
      signal?.removeEventListener('abort', onAbort);
    };
    ws.on('open', onOpen);
    ws.on('unexpected-response', onResponse);
    ws.on('error', onError);
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
}

const TOKEN = /^[!#$%&'*+\-.0-9A-Z^_`|a-z~]+$/;

function offerProtocol(protocol: string, placeholder: string) {
  return (req: ClientRequest) => {
    req.setHeader('Sec-WebSocket-Protocol', protocol);
    req.prependListener('upgrade', (res: IncomingMessage) => {
      if (res.headers['sec-websocket-protocol'] === protocol)
        res.headers['sec-websocket-protocol'] = placeholder;
    });
    req.end();
  };
}

function handshakeError(status: number, namespace: string, pod: string, target: string): RayConnectError {
  const details = { target, namespace, name: pod, status };
  if (status === 404)
    return new RayConnectError('PORT_FORWARD_FAILED', `Pod ${namespace}/${pod} is gone (404)`, { details });
  if (status === 401)
    return new RayConnectError(
      'TOKEN_EXPIRED',
      `The API server rejected your credentials for port-forward to ${target}`,
      { fix: 'Sign in again: ray-connect login', details },
    );
  if (status === 403)
    return new RayConnectError(
      'ACCESS_DENIED',
      `You may not port-forward to pods in namespace ${namespace}`,
      {
        fix: `Ask a namespace admin for: kubectl create role ray-port-forward -n ${namespace} --verb=get,list,create --resource=pods,pods/portforward, and a rolebinding to you`,
        details: { ...details, verb: 'create', resource: 'pods/portforward' },
      },
    );
  return new RayConnectError(
    'PORT_FORWARD_FAILED',
    `The API server answered ${status} to port-forward to ${target}`,
    { details },
  );
}

interface TlsCache {
  ca: KubeWebSocketOptions['ca'];
  cert: KubeWebSocketOptions['cert'];
  key: KubeWebSocketOptions['key'];
  secureContext: SecureContext;
  agent: Agent;
}

const tlsCaches = new WeakMap<KubeClient, TlsCache>();

/**
 * One TLS context and one https.Agent (for its TLS session cache) per KubeClient, made again when its CA or client
 * certificate changes (a new identity never resumes the old one's session). Every local connection opens a
 * websocket: building a context parses the CA, certificate and key (milliseconds of CPU each time), and resuming
 * the TLS session skips most of the handshake. No keep-alive (an upgraded socket is never reused).
 */
function tlsFor(kube: KubeClient, options: KubeWebSocketOptions): TlsCache {
  const cached = tlsCaches.get(kube);
  if (
    cached &&
    same(cached.ca, options.ca) &&
    same(cached.cert, options.cert) &&
    same(cached.key, options.key)
  )
    return cached;
  // The old agent is dropped, not destroyed: a handshake may still be using it (upgraded sockets leave it).
  const entry: TlsCache = {
    ca: options.ca,
    cert: options.cert,
    key: options.key,
    secureContext: createSecureContext({
      ...(options.ca !== undefined && { ca: options.ca }),
      ...(options.cert !== undefined && { cert: options.cert }),
      ...(options.key !== undefined && { key: options.key }),
    }),
    agent: new Agent({ keepAlive: false, maxCachedSessions: 16 }),
  };
  tlsCaches.set(kube, entry);
  return entry;
}

function same(a: string | Buffer | undefined, b: string | Buffer | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  return Buffer.isBuffer(a) && Buffer.isBuffer(b) ? a.equals(b) : String(a) === String(b);
}
