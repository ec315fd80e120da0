import type { Socket } from 'node:net';
import { RayConnectError } from '../errors.js';
import type { OpenedPortForward } from './openPortForward.js';

/** Channels of the v4.channel.k8s.io port-forward protocol for one port: 0 = data, 1 = error. */
const DATA = 0;
const ERROR = 1;
/** Pause the local socket while this much upload is queued on the websocket. */
const HIGH_WATER = 1024 * 1024;

export interface StreamEvents {
  /** The remote side reported an error (kubelet error channel). The local socket is reset. */
  onRemoteError(error: RayConnectError): void;
}

/**
 * Bridges one local TCP connection to one open port-forward websocket, both ways, without per-chunk copies on
 * the download path (payloads are sliced, not copied). Closes and errors propagate both ways, which
 * client-node's PortForward does not do: websocket closed -> socket ended; websocket error or error-channel
 * message -> socket reset; socket closed or reset -> websocket closed. Backpressure both ways.
 * The v4 protocol has no half-close, so a client's FIN closes the websocket (as kubectl's websocket mode does).
 */
export function bridgeStream(
  socket: Socket,
  opened: OpenedPortForward,
  target: string,
  events: StreamEvents,
): void {
  const { ws } = opened;
  const headerSeen = [false, false];
  let finished = false;

  const finish = (how: 'end' | 'destroy') => {
    if (finished) return;
    finished = true;
    if (how === 'end') socket.end();
    else socket.destroy();
    if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close();
  };

  const onMessage = (data: Buffer, isBinary: boolean) => {
    if (finished || !isBinary || data.length === 0) return;
    const channel = data[0];
    let payload = data.subarray(1);
    if (channel !== DATA && channel !== ERROR) return;
    if (!headerSeen[channel]) {
      // The first frame of each channel carries the port number (2 bytes, little endian).
      headerSeen[channel] = true;
      payload = payload.subarray(2);
    }
    if (payload.length === 0) return;
    if (channel === ERROR) {
      const text = payload.toString('utf8').trim().slice(0, 500);
      events.onRemoteError(
        new RayConnectError('PORT_FORWARD_FAILED', `Port-forward to ${target} failed: ${text}`, {
          details: { target },
        }),
      );
      finish('destroy');
      return;
    }
    if (!socket.write(payload)) {
      ws.pause();
      socket.once('drain', () => ws.resume());
    }
  };
  opened.detach();
  for (const m of opened.early.splice(0)) onMessage(m.data, m.isBinary);
  ws.on('message', onMessage);
  ws.on('close', () => finish('end'));
  ws.on('error', () => finish('destroy'));

  socket.on('data', (chunk: Buffer) => {
    if (ws.readyState !== ws.OPEN) return;
    const frame = Buffer.allocUnsafe(chunk.length + 1);
    frame[0] = DATA;
    chunk.copy(frame, 1);
    ws.send(frame, { binary: true }, () => {
      if (socket.isPaused() && ws.bufferedAmount < HIGH_WATER) socket.resume();
    });
    if (ws.bufferedAmount >= HIGH_WATER) socket.pause();
  });
  // v4 has no half-close: a client's FIN closes the websocket (frames already in flight are still delivered).
  socket.on('end', () => {
    if (ws.readyState === ws.OPEN) ws.close();
  });
  socket.on('error', () => finish('destroy'));
  socket.on('close', () => {
    finished = true;
    if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close();
  });
  socket.resume();
}
