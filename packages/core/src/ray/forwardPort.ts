import { createServer, type Server, type Socket } from 'node:net';
import { isRayConnectError, RayConnectError, wrapError } from '../errors.js';
import type { Logger } from '../ports/Logger.js';
import type { PeerCheck } from './peerCheck.js';
import type { PortForwardSocket } from './portForwardSocket.js';
import { bridgeStream } from './portForwardStream.js';

export interface ForwardPortInput {
  /** Port on the pod. */
  remotePort: number;
  /** Local port on 127.0.0.1; 0 or absent = a free port. */
  localPort?: number;
  /** Label for messages and logs, e.g. "dashboard". */
  label: string;
}

export interface ForwardPortDeps {
  /** The pod to forward to now; waits while the supervisor reconnects, rejects when it failed. */
  target(): Promise<string>;
  /** Opens a port-forward stream to pod:port (openPortForward). */
  open(pod: string, port: number): Promise<PortForwardSocket>;
  /** A stream to the pod failed: the supervisor re-resolves the head pod. */
  onStreamError(pod: string, error: RayConnectError): void;
  /** Who may use the forward (createPeerCheck: the user's own uid). Absent: everyone who reaches the port. */
  allowPeer?: PeerCheck;
  logger: Logger;
}

export interface PortForward {
  readonly localPort: number;
  readonly remotePort: number;
  /** Open local connections. */
  readonly connections: number;
  /** Stops listening and closes every connection. Nothing listens afterwards. */
  close(): Promise<void>;
}

/** Attempts per local connection when the websocket cannot be opened (the supervisor re-resolves between). */
const OPEN_ATTEMPTS = 3;

/**
 * Our own listener on 127.0.0.1 for one remote port: every accepted TCP connection gets its own port-forward
 * port-forward stream. Connections that arrive while the head pod is being re-resolved wait for it.
 * With `allowPeer`, a connection of another local user is destroyed before anything is read from it or opened.
 */
export async function forwardPort(input: ForwardPortInput, deps: ForwardPortDeps): Promise<PortForward> {
  const sockets = new Set<Socket>();
  const server: Server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    void connect(socket, input, deps);
  });
  const localPort = await listen(server, input);
  server.on('error', (e) =>
    deps.logger.warn('port-forward listener error', { label: input.label, reason: e.message }),
  );
  deps.logger.debug('port-forward listening', {
    label: input.label,
    localPort,
    remotePort: input.remotePort,
  });
  return {
    localPort,
    remotePort: input.remotePort,
    get connections() {
      return sockets.size;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}

async function connect(socket: Socket, input: ForwardPortInput, deps: ForwardPortDeps): Promise<void> {
  if (deps.allowPeer && !(await deps.allowPeer(socket).catch(() => false))) {
    socket.destroy();
    return;
  }
  for (let attempt = 1; attempt <= OPEN_ATTEMPTS && !socket.destroyed; attempt++) {
    let pod: string;
    try {
      pod = await deps.target();
    } catch (e) {
      deps.logger.debug('port-forward has no target', {
        label: input.label,
        reason: e instanceof Error ? e.message : String(e),
      });
      socket.destroy();
      return;
    }
    if (socket.destroyed) return;
    try {
      const opened = await deps.open(pod, input.remotePort);
      if (socket.destroyed) {
        opened.close();
        return;
      }
      bridgeStream(socket, opened, `pod ${pod} port ${input.remotePort}`, {
        onRemoteError: (e) => deps.onStreamError(pod, e),
      });
      return;
    } catch (e) {
      const error = wrapError(e, `Port-forward to ${pod}:${input.remotePort}`, 'PORT_FORWARD_FAILED');
      deps.logger.warn('port-forward stream failed', {
        label: input.label,
        pod,
        code: error.code,
        reason: error.message,
      });
      deps.onStreamError(pod, error);
      if (isRayConnectError(e, 'ACCESS_DENIED') || isRayConnectError(e, 'TOKEN_EXPIRED')) break;
    }
  }
  socket.destroy();
}

function listen(server: Server, input: ForwardPortInput): Promise<number> {
  const port = input.localPort ?? 0;
  return new Promise<number>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EADDRINUSE')
        reject(
          new RayConnectError(
            'PORT_IN_USE',
            `Local port ${port} (${input.label}) is already in use on 127.0.0.1`,
            {
              fix: 'Pick another port, or leave the port unset (0) to get a free one',
              details: { port, label: input.label },
              cause: e,
            },
          ),
        );
      else reject(wrapError(e, `Listening on 127.0.0.1:${port}`, 'PORT_FORWARD_FAILED'));
    });
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => {
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : port);
    });
  });
}
