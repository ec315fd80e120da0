import { createHash, randomBytes } from 'node:crypto';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent, request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import { createSecureContext, type SecureContext } from 'node:tls';
import { RayConnectError } from '../errors.js';
import type { KubeClient, KubeWebSocketOptions } from '../ports/KubeClient.js';
import { podsPath } from './kubeTypes.js';
import { PortForwardSocket } from './portForwardSocket.js';

export const PORT_FORWARD_PROTOCOL = 'v4.channel.k8s.io';

/** RFC 6455's key for Sec-WebSocket-Accept. */
const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const HANDSHAKE_TIMEOUT_MS = 30_000;

/**
 * Opens one port-forward stream (`v4.channel.k8s.io`, the protocol of client-node's PortForward) to a pod port
 * through the API server, with the KubeClient's TLS and credentials. Resolves when the API server switched
 * protocols; rejects with a RayConnectError naming what went wrong (pod gone, no permission, token expired,
 * unreachable, cancelled).
 */
export async function openPortForward(
  kube: KubeClient,
  namespace: string,
  pod: string,
  port: number,
  signal?: AbortSignal,
): Promise<PortForwardSocket> {
  const options = await kube.webSocketOptions();
  const url = new URL(kube.server.replace(/\/+$/, '') + podsPath(namespace, pod) + '/portforward');
  url.searchParams.set('ports', String(port));
  const target = `pod ${namespace}/${pod} port ${port}`;
  const secure = url.protocol === 'https:';
  // Through a proxy its agent does the TLS from ca/cert/key; else one cached TLS context + session cache.
  const tls = options.agent === undefined && secure ? tlsFor(kube, options) : undefined;
  const key = randomBytes(16).toString('base64');
  const req = (secure ? httpsRequest : httpRequest)(url, {
    headers: {
      ...options.headers,
      Connection: 'Upgrade',
      Upgrade: 'websocket',
      'Sec-WebSocket-Version': '13',
      'Sec-WebSocket-Key': key,
      'Sec-WebSocket-Protocol': PORT_FORWARD_PROTOCOL,
    },
    ...(tls
      ? { secureContext: tls.secureContext, agent: tls.agent }
      : {
          ...(options.agent !== undefined && { agent: options.agent as never }),
          ...(options.ca !== undefined && { ca: options.ca }),
          ...(options.cert !== undefined && { cert: options.cert }),
          ...(options.key !== undefined && { key: options.key }),
        }),
    ...(options.servername !== undefined && { servername: options.servername }),
    rejectUnauthorized: options.rejectUnauthorized,
  });
  return new Promise<PortForwardSocket>((resolve, reject) => {
    let settled = false;
    const fail = (error: RayConnectError) => {
      if (settled) return;
      settled = true;
      cleanup();
      req.destroy();
      reject(error);
    };
    const onAbort = () =>
      fail(
        new RayConnectError('PORT_FORWARD_FAILED', `Port-forward to ${target} was cancelled`, {
          details: { target },
        }),
      );
    const timer = setTimeout(
      () =>
        fail(
          new RayConnectError(
            'CLUSTER_UNREACHABLE',
            `Port-forward to ${target} failed: the API server did not answer in ${HANDSHAKE_TIMEOUT_MS / 1000} s`,
            { details: { target } },
          ),
        ),
      HANDSHAKE_TIMEOUT_MS,
    );
    const cleanup = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    req.on('upgrade', (res: IncomingMessage, socket: Socket, head: Buffer) => {
      if (settled) return void socket.destroy();
      const accept = createHash('sha1')
        .update(key + WEBSOCKET_GUID)
        .digest('base64');
      const problem =
        res.headers['sec-websocket-accept'] !== accept
          ? 'a wrong Sec-WebSocket-Accept'
          : res.headers['sec-websocket-protocol'] !== PORT_FORWARD_PROTOCOL
            ? `protocol ${res.headers['sec-websocket-protocol'] ?? '(none)'}, not ${PORT_FORWARD_PROTOCOL}`
            : undefined;
      if (problem) {
        socket.destroy();
        return fail(
          new RayConnectError(
            'PORT_FORWARD_FAILED',
            `The API server answered port-forward to ${target} with ${problem}`,
            { details: { target } },
          ),
        );
      }
      settled = true;
      cleanup();
      resolve(new PortForwardSocket(socket, head));
    });
    req.on('response', (res: IncomingMessage) => {
      res.resume();
      fail(handshakeError(res.statusCode ?? 0, namespace, pod, target));
    });
    req.on('error', (e: Error) =>
      fail(
        new RayConnectError('CLUSTER_UNREACHABLE', `Port-forward to ${target} failed: ${e.message}`, {
          details: { target },
          cause: e,
        }),
      ),
    );
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    req.end();
  });
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
