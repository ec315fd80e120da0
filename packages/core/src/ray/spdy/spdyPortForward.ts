import { EventEmitter } from 'node:events';
import type WebSocket from 'ws';
import { RayConnectError } from '../../errors.js';
import type { KubeClient } from '../../ports/KubeClient.js';
import { openPortForward, type OpenedPortForward } from '../openPortForward.js';
import {
  FLAG_FIN,
  FrameParser,
  HeaderCompressor,
  MAX_DATA,
  TYPE_GOAWAY,
  TYPE_PING,
  TYPE_RST_STREAM,
  TYPE_SYN_REPLY,
  controlFrame,
  dataHeader,
  goAway,
  rstStream,
  streamIdOf,
  synStream,
  type SpdyFrame,
} from './framer.js';

/**
 * EXPERIMENTAL, opt-in port-forward transport: kubectl's (1.31+) `SPDY/3.1+portforward.k8s.io` websocket tunnel.
 * One websocket per pod port carries every local connection as a pair of SPDY streams (`streamtype: error|data`,
 * `port`, `requestid`), so a new local connection costs two frames instead of a TLS + websocket handshake.
 *
 * It plugs into forwardPort unchanged: each stream is presented as a websocket speaking `v4.channel.k8s.io`
 * (channel 0 data, channel 1 error, a 2-byte port header first), which is what bridgeStream reads.
 */
export const SPDY_TUNNEL_PROTOCOL = 'SPDY/3.1+portforward.k8s.io';

/** Close a session this long after its last stream ends. */
const IDLE_MS = 15_000;
/** After our FIN, wait this long for the remote FIN before resetting the stream. */
const CLOSE_WAIT_MS = 10_000;

/** After the remote data FIN, wait this long for the error stream to end. */
const ERROR_WAIT_MS = 2_000;

const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

class SpdySession {
  private readonly compressor = new HeaderCompressor();
  private readonly parser = new FrameParser();
  private nextStreamId = 1;
  private nextRequestId = 0;
  private readonly streams = new Map<number, SpdyStreamSocket>();
  private pauses = 0;
  private idle: NodeJS.Timeout | undefined;
  dead = false;

  constructor(
    readonly ws: WebSocket,
    private readonly onDead: () => void,
  ) {}

  start(opened: OpenedPortForward): void {
    opened.detach();
    for (const m of opened.early.splice(0)) this.onMessage(m.data);
    this.ws.on('message', (data: Buffer) => this.onMessage(data));
    this.ws.on('close', () => this.die(false));
    this.ws.on('error', () => this.die(true));
    this.armIdle();
  }

  openStream(port: number): SpdyStreamSocket {
    const requestId = String(this.nextRequestId++);
    const errorId = this.nextStreamId;
    const dataId = this.nextStreamId + 2;
    this.nextStreamId += 4;
    const stream = new SpdyStreamSocket(this, port, errorId, dataId);
    this.streams.set(errorId, stream);
    this.streams.set(dataId, stream);
    if (this.idle) clearTimeout(this.idle);
    this.idle = undefined;
    const p = String(port);
    this.write(synStream(this.compressor, errorId, { streamtype: 'error', port: p, requestid: requestId }));
    this.write(synStream(this.compressor, dataId, { streamtype: 'data', port: p, requestid: requestId }));
    return stream;
  }

  write(buf: Buffer, cb?: () => void): void {
    if (this.dead || this.ws.readyState !== this.ws.OPEN) {
      cb?.();
      return;
    }
    this.ws.send(buf, { binary: true }, cb);
  }

  forget(stream: SpdyStreamSocket): void {
    this.streams.delete(stream.errorId);
    this.streams.delete(stream.dataId);
    this.armIdle();
  }

  pause(): void {
    if (this.pauses++ === 0) this.ws.pause();
  }

  resume(): void {
    if (this.pauses > 0 && --this.pauses === 0) this.ws.resume();
  }

  close(): void {
    if (this.dead) return;
    this.write(goAway(0));
    this.ws.close();
    this.die(false);
  }

  private armIdle(): void {
    if (this.streams.size > 0 || this.dead || this.idle) return;
    this.idle = setTimeout(() => {
      this.idle = undefined;
      if (this.streams.size === 0) this.close();
    }, IDLE_MS);
    this.idle.unref();
  }

  private die(error: boolean): void {
    if (this.idle) clearTimeout(this.idle);
    this.idle = undefined;
    const first = !this.dead;
    this.dead = true;
    if (first) this.onDead();
    for (const s of new Set(this.streams.values())) s.remoteGone(error);
    this.streams.clear();
  }

  private onMessage(data: Buffer): void {
    this.parser.push(data, (f) => this.onFrame(f));
  }

  private onFrame(f: SpdyFrame): void {
    if (f.kind === 'data') {
      this.streams.get(f.streamId)?.onData(f.streamId, f.flags, f.data);
      return;
    }
    switch (f.type) {
      case TYPE_SYN_REPLY: {
        const id = streamIdOf(f.payload);
        this.streams.get(id)?.onReply(id, f.flags);
        return;
      }
      case TYPE_RST_STREAM:
        this.streams.get(streamIdOf(f.payload))?.onReset(streamIdOf(f.payload));
        return;
      case TYPE_PING:
        // We send no pings: every PING is the server's, echoed as spdystream does.
        this.write(controlFrame(TYPE_PING, 0, Buffer.from(f.payload)));
        return;
      case TYPE_GOAWAY:
        // No new streams on this session; the open ones run to their end.
        if (!this.dead) this.onDead();
        return;
      default:
        // SETTINGS, WINDOW_UPDATE (spdystream does no flow control), HEADERS, SYN_STREAM: nothing to do.
        return;
    }
  }
}

/**
 * One local connection's pair of SPDY streams, shaped like the `ws` WebSocket that bridgeStream drives (readyState,
 * send/close/terminate/pause/resume, bufferedAmount, 'message'/'close'/'error' events, v4 channel framing).
 */
class SpdyStreamSocket extends EventEmitter {
  readonly CONNECTING = 0;
  readonly OPEN = OPEN;
  readonly CLOSING = CLOSING;
  readonly CLOSED = CLOSED;
  readonly protocol = SPDY_TUNNEL_PROTOCOL;
  readyState = OPEN;
  private dataReplied = false;
  private queued: Buffer[] = [];
  private finPending = false;
  private localFin = false;
  private remoteFin = false;
  private errorDone = false;
  private paused = false;
  private closeTimer: NodeJS.Timeout | undefined;
  readonly early: { data: Buffer; isBinary: boolean }[] = [];
  private detached = false;

  constructor(
    private readonly session: SpdySession,
    port: number,
    readonly errorId: number,
    readonly dataId: number,
  ) {
    super();
    // The port headers bridgeStream expects first on each v4 channel.
    for (const ch of [0, 1]) {
      const h = Buffer.alloc(3);
      h[0] = ch;
      h.writeUInt16LE(port, 1);
      this.early.push({ data: h, isBinary: true });
    }
  }

  detach(): void {
    this.detached = true;
  }

  get bufferedAmount(): number {
    return this.session.ws.bufferedAmount;
  }

  /** `frame` is a v4 frame: channel byte 0, then the payload. */
  send(frame: Buffer, _options: unknown, cb?: (err?: Error) => void): void {
    if (this.readyState !== OPEN) return void cb?.();
    const payload = frame.subarray(1);
    for (let off = 0; off < payload.length; off += MAX_DATA) {
      const piece = payload.subarray(off, off + MAX_DATA);
      const last = off + MAX_DATA >= payload.length;
      const buf = Buffer.concat([dataHeader(this.dataId, 0, piece.length), piece]);
      if (!this.dataReplied) {
        this.queued.push(buf);
        if (last) cb?.();
      } else this.session.write(buf, last ? () => cb?.() : undefined);
    }
  }

  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.session.pause();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.session.resume();
  }

  /** Half-closes (FIN on the data stream); the stream ends when the remote side finishes too. */
  close(): void {
    if (this.readyState !== OPEN) return;
    this.readyState = CLOSING;
    if (this.dataReplied) this.sendFin();
    else this.finPending = true;
    this.closeTimer = setTimeout(() => this.end(true, false), CLOSE_WAIT_MS);
    this.closeTimer.unref();
  }

  terminate(): void {
    this.end(true, false);
  }

  onReply(id: number, flags: number): void {
    if (id === this.errorId) {
      // As client-go: we never write to the error stream.
      this.session.write(dataHeader(this.errorId, FLAG_FIN, 0));
    } else {
      this.dataReplied = true;
      for (const b of this.queued.splice(0)) this.session.write(b);
      if (this.finPending) this.sendFin();
    }
    if (flags & FLAG_FIN && id === this.dataId) this.remoteDataFin();
  }

  onData(id: number, flags: number, data: Buffer): void {
    if (this.readyState === CLOSED) return;
    if (id === this.errorId) {
      if (data.length > 0) this.deliver(Buffer.concat([Buffer.from([1]), data]));
      if (flags & FLAG_FIN) this.errorEnded();
      return;
    }
    if (data.length > 0) {
      // Reuse the frame header's last byte (already parsed) as the v4 channel byte: no copy of the payload.
      const framed = Buffer.from(data.buffer, data.byteOffset - 1, data.length + 1);
      framed[0] = 0;
      this.deliver(framed);
    }
    if (flags & FLAG_FIN) this.remoteDataFin();
  }

  onReset(id: number): void {
    if (this.readyState === CLOSED) return;
    if (id === this.errorId) this.errorEnded();
    else this.end(false, true);
  }

  remoteGone(error: boolean): void {
    if (this.readyState === CLOSED) return;
    this.end(false, error);
  }

  private deliver(m: Buffer): void {
    if (!this.detached) this.early.push({ data: m, isBinary: true });
    else this.emit('message', m, true);
  }

  private sendFin(): void {
    if (this.localFin) return;
    this.localFin = true;
    this.session.write(dataHeader(this.dataId, FLAG_FIN, 0));
    if (this.remoteFin) this.end(true, false);
  }

  /**
   * v4 has no half-close: the remote end finishing ends the local connection (bridgeStream ends the socket), once
   * the error stream has ended too: the kubelet closes the data stream before it writes an error (as client-go,
   * which reads the error stream to its end before closing the connection).
   */
  private remoteDataFin(): void {
    this.remoteFin = true;
    if (this.errorDone) this.end(true, false);
    else {
      if (this.closeTimer) clearTimeout(this.closeTimer);
      this.closeTimer = setTimeout(() => this.end(true, false), ERROR_WAIT_MS);
      this.closeTimer.unref();
    }
  }

  private errorEnded(): void {
    this.errorDone = true;
    if (this.remoteFin) this.end(true, false);
  }

  private end(reset: boolean, error: boolean): void {
    if (this.readyState === CLOSED) return;
    this.readyState = CLOSED;
    if (this.closeTimer) clearTimeout(this.closeTimer);
    if (this.paused) this.resume();
    if (reset) {
      this.session.write(rstStream(this.dataId));
      this.session.write(rstStream(this.errorId));
    }
    this.session.forget(this);
    if (error && this.listenerCount('error') > 0)
      this.emit('error', new Error('port-forward stream was reset'));
    this.emit('close');
  }
}

interface SessionCache {
  sessions: Map<string, Promise<SpdySession>>;
}

const caches = new WeakMap<KubeClient, SessionCache>();
const allSessions = new Set<SpdySession>();

/**
 * Same contract as openPortForward (same arguments, same errors, same OpenedPortForward shape), over one shared
 * SPDY tunnel websocket per KubeClient and pod port.
 */
export async function openSpdyPortForward(
  kube: KubeClient,
  namespace: string,
  pod: string,
  port: number,
  signal?: AbortSignal,
): Promise<OpenedPortForward> {
  let cache = caches.get(kube);
  if (!cache) {
    cache = { sessions: new Map() };
    caches.set(kube, cache);
  }
  const key = `${namespace}/${pod}/${port}`;
  let pending = cache.sessions.get(key);
  if (!pending) {
    const sessions = cache.sessions;
    pending = openPortForward(kube, namespace, pod, port, signal, SPDY_TUNNEL_PROTOCOL).then((opened) => {
      const session: SpdySession = new SpdySession(opened.ws, () => {
        allSessions.delete(session);
        if (sessions.get(key) === pending) sessions.delete(key);
      });
      allSessions.add(session);
      session.start(opened);
      return session;
    });
    sessions.set(key, pending);
    pending.catch(() => {
      if (sessions.get(key) === pending) sessions.delete(key);
    });
  }
  const session = await pending;
  if (session.dead) {
    throw new RayConnectError(
      'PORT_FORWARD_FAILED',
      `Port-forward to pod ${namespace}/${pod} port ${port} ended`,
      {
        details: { target: `pod ${namespace}/${pod} port ${port}` },
      },
    );
  }
  const stream = session.openStream(port);
  return { ws: stream as unknown as WebSocket, early: stream.early, detach: () => stream.detach() };
}

/** Closes every SPDY tunnel session (tests, process shutdown). */
export function closeSpdySessions(): void {
  for (const s of [...allSessions]) s.close();
}
