import type { Socket } from 'node:net';
import { RayConnectError } from '../errors.js';
import type { PortForwardSocket } from './portForwardSocket.js';

/**
 * Stop reading from the API server while this much is waiting for the local client. Node's default (16 KiB,
 * less than one 32 KiB frame) would stop and restart reading after nearly every frame.
 */
const HIGH_WATER = 512 * 1024;

export interface StreamEvents {
  /** The remote side reported an error (kubelet error channel). The local socket is reset. */
  onRemoteError(error: RayConnectError): void;
}

/**
 * Bridges one local TCP connection to one open port-forward stream, both ways, without copying payloads.
 * Closes and errors propagate both ways, which client-node's PortForward does not do: stream closed -> socket
 * ended; stream broken or error-channel message -> socket reset; socket closed or reset -> stream closed.
 * Backpressure both ways. The v4 protocol has no half-close, so a client's FIN closes the stream (as kubectl's
 * websocket mode does).
 */
export function bridgeStream(
  socket: Socket,
  stream: PortForwardSocket,
  target: string,
  events: StreamEvents,
): void {
  let finished = false;
  const finish = (how: 'end' | 'destroy') => {
    if (finished) return;
    finished = true;
    if (how === 'end') socket.end();
    else socket.destroy();
    stream.close();
  };

  let downloadWaits = false;
  stream.attach({
    data: (chunks) => {
      if (finished) return;
      let ok = true;
      if (chunks.length === 1) ok = socket.write(chunks[0] as Buffer);
      else {
        socket.cork(); // one writev
        for (const c of chunks) ok = socket.write(c);
        socket.uncork();
      }
      if (!ok && !downloadWaits && socket.writableLength >= HIGH_WATER) {
        downloadWaits = true; // one drain listener per stop, however many frames were already on their way
        stream.reading(false);
        socket.once('drain', () => {
          downloadWaits = false;
          stream.reading(true);
        });
      }
    },
    remoteError: (text) => {
      events.onRemoteError(
        new RayConnectError('PORT_FORWARD_FAILED', `Port-forward to ${target} failed: ${text}`, {
          details: { target },
        }),
      );
      finish('destroy');
    },
    closed: (failed) => finish(failed ? 'destroy' : 'end'),
  });

  let uploadWaits = false;
  socket.on('data', (chunk: Buffer) => {
    if (!stream.send(chunk) && !uploadWaits) {
      uploadWaits = true;
      socket.pause();
      stream.onDrain(() => {
        uploadWaits = false;
        socket.resume();
      });
    }
  });
  // v4 has no half-close: a client's FIN closes the stream (what is already in flight is still delivered).
  socket.on('end', () => stream.close());
  socket.on('error', () => finish('destroy'));
  socket.on('close', () => {
    finished = true;
    stream.close();
  });
  socket.resume();
}
