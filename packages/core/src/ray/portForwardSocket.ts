import type { Socket } from 'node:net';

/** Channels of the v4.channel.k8s.io port-forward protocol for one port: 0 = data, 1 = error. */
const DATA = 0;
const ERROR = 1;
/** Bytes of the error channel kept for the message (the kubelet's error text is short). */
const ERROR_TEXT_MAX = 500;
/** Arrived before a sink was attached: above this, stop reading until one is. */
const EARLY_MAX = 256 * 1024;
/** After our close frame, how long the API server gets to close the connection before it is destroyed. */
const CLOSE_GRACE_MS = 10_000;
/** send() says "full" once this much waits for the API server (Node's 16 KiB default is less than a read). */
const SEND_HIGH_WATER = 512 * 1024;
/** Payload slices are handed on when their frame ends, or once this much of a long frame is waiting. */
const FLUSH_BYTES = 64 * 1024;
/** Below this, a payload is copied into its frame (one write); above, header and payload go out as one writev. */
const SMALL = 1024;

/** Where a stream delivers what the pod sends. */
export interface PortForwardSink {
  /**
   * Bytes from the pod (channel 0): one websocket frame's payload, as slices of what arrived (a frame spans
   * TLS records). Write them (one writev) or copy them; do not keep them.
   */
  data(chunks: readonly Buffer[]): void;
  /** The kubelet's error channel said something: the stream is over. */
  remoteError(text: string): void;
  /** The websocket closed (cleanly or not); `failed` when it broke (protocol error, reset). */
  closed(failed: boolean): void;
}

/**
 * One port-forward stream: a client websocket speaking exactly what the kubelet's v4.channel.k8s.io server
 * speaks (RFC 6455 binary messages whose first byte is the channel, ping/pong, close), over a socket the
 * API server has upgraded. Payloads reach the sink as slices of the socket's reads (no copy, also when a
 * message spans several TLS records); what we send goes out as a small header plus the caller's buffer.
 *
 * Frames are masked with a zero key: masking protects browsers' proxies from script-chosen bytes, which this
 * client never sends, and a zero key leaves the payload as it is.
 */
export class PortForwardSocket {
  private sink: PortForwardSink | undefined;
  private early: Buffer[] = [];
  private earlyBytes = 0;
  /** Channel 0 slices of the current frame, not handed on yet. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Header bytes (and a control frame's payload) that straddled two reads. */
  private partial: Buffer | undefined;
  /** Payload bytes left in the current frame, and how to read them. */
  private left = 0;
  private opcode = 0;
  private fin = true;
  /** Channel of the message being read, -1 before its first payload byte. */
  private channel = -1;
  /** Port header bytes (2, on each channel's first message) still to skip. */
  private skip = 0;
  private readonly headerSeen = [false, false];
  private errorText = '';
  /** An error-channel message that came before a sink was attached. */
  private pendingError: string | undefined;
  private closing = false;
  private ended = false;
  /** Destroys the connection if the server does not close it after our close frame. */
  private grace: NodeJS.Timeout | undefined;

  constructor(
    private readonly socket: Socket,
    head: Buffer,
  ) {
    socket.setNoDelay(true);
    socket.setTimeout(0);
    socket.on('data', (chunk: Buffer) => this.onChunk(chunk));
    socket.on('end', () => {
      this.closing = true; // the server is gone: nothing more to send
      socket.end();
    });
    socket.on('error', () => this.finish(true));
    socket.on('close', () => this.finish(false));
    if (head.length > 0) this.onChunk(head);
  }

  /** Open: neither side has started closing. */
  get isOpen(): boolean {
    return !this.closing && !this.ended;
  }

  /** Starts delivering to `sink`, what arrived so far first. A stream has one sink. */
  attach(sink: PortForwardSink): void {
    this.sink = sink;
    if (this.early.length > 0) sink.data(this.early.splice(0));
    this.earlyBytes = 0;
    if (this.pendingError !== undefined) sink.remoteError(this.pendingError);
    if (this.ended) sink.closed(false);
    else this.socket.resume();
  }

  /** Sends bytes to the pod (channel 0). False: the socket's buffer is full, wait for onDrain. */
  send(payload: Buffer): boolean {
    if (!this.isOpen) return true;
    return this.writeFrame(0x2, payload, DATA) || this.socket.writableLength < SEND_HIGH_WATER;
  }

  onDrain(callback: () => void): void {
    this.socket.once('drain', callback);
  }

  /** Stops (false) or restarts (true) reading from the API server: backpressure from the local side. */
  reading(on: boolean): void {
    if (this.ended) return;
    if (on) this.socket.resume();
    else this.socket.pause();
  }

  /** Closes cleanly: a close frame, then the connection once the server closed its side (or after a grace). */
  close(): void {
    if (this.ended || this.closing) return;
    this.closing = true;
    this.writeFrame(0x8, Buffer.from([0x03, 0xe8])); // 1000: normal closure
    this.socket.end();
    this.grace = setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS).unref();
  }

  /** Drops the connection now. */
  destroy(): void {
    this.closing = true;
    this.socket.destroy();
  }

  private onChunk(chunk: Buffer): void {
    if (this.partial) {
      // Join only what completes a header and a control payload (<= 14 + 125 bytes), never a whole read.
      const head = chunk.subarray(0, 256);
      const joined = Buffer.concat([this.partial, head]);
      this.partial = undefined;
      this.feed(joined);
      if (chunk.length > head.length) this.onChunk(chunk.subarray(head.length));
      return;
    }
    this.feed(chunk);
  }

  private feed(buf: Buffer): void {
    let i = 0;
    while (i < buf.length && !this.ended) {
      if (this.left > 0) {
        const n = Math.min(this.left, buf.length - i);
        this.payload(buf.subarray(i, i + n));
        i += n;
        this.left -= n;
        if (this.left === 0) this.frameDone();
        continue;
      }
      const used = this.header(buf, i);
      if (used === 0) {
        this.partial = buf.subarray(i);
        return;
      }
      i += used;
    }
  }

  /** Reads a frame header at `at`; returns the bytes used, 0 when incomplete. Control frames are read whole. */
  private header(buf: Buffer, at: number): number {
    if (buf.length - at < 2) return 0;
    const b0 = buf[at] ?? 0;
    const b1 = buf[at + 1] ?? 0;
    let length = b1 & 0x7f;
    let size = 2;
    if (length === 126) {
      if (buf.length - at < 4) return 0;
      length = buf.readUInt16BE(at + 2);
      size = 4;
    } else if (length === 127) {
      if (buf.length - at < 10) return 0;
      length = buf.readUInt32BE(at + 2) * 2 ** 32 + buf.readUInt32BE(at + 6);
      size = 10;
    }
    const opcode = b0 & 0x0f;
    const fin = (b0 & 0x80) !== 0;
    if ((b1 & 0x80) !== 0 || length > Number.MAX_SAFE_INTEGER) return this.protocolError();
    if (opcode >= 0x8) {
      if (length > 125 || !fin) return this.protocolError();
      if (buf.length - at < size + length) return 0;
      this.onControl(opcode, buf.subarray(at + size, at + size + length));
      return size + length;
    }
    if (opcode !== 0x0) this.opcode = opcode;
    this.fin = fin;
    this.left = length;
    if (length === 0) this.frameDone();
    return size;
  }

  private payload(slice: Buffer): void {
    if (this.opcode !== 0x2) return; // v4 is binary; anything else is not ours to read
    if (this.channel === -1) {
      this.channel = slice[0] ?? -1;
      slice = slice.subarray(1);
      if ((this.channel === DATA || this.channel === ERROR) && !this.headerSeen[this.channel]) {
        this.headerSeen[this.channel] = true;
        this.skip = 2;
      }
    }
    if (this.skip > 0) {
      const n = Math.min(this.skip, slice.length);
      this.skip -= n;
      slice = slice.subarray(n);
    }
    if (slice.length === 0) return;
    if (this.channel === DATA) this.deliver(slice);
    else if (this.channel === ERROR && this.errorText.length < ERROR_TEXT_MAX)
      this.errorText += slice.toString('utf8');
  }

  private frameDone(): void {
    this.flush();
    if (!this.fin) return;
    if (this.channel === ERROR && this.errorText.trim() !== '') {
      const text = this.errorText.trim().slice(0, ERROR_TEXT_MAX);
      this.errorText = '';
      if (this.sink) this.sink.remoteError(text);
      else this.pendingError = text;
      this.destroy();
    }
    this.channel = -1;
  }

  private deliver(slice: Buffer): void {
    if (!this.sink) {
      this.early.push(Buffer.from(slice)); // kept until a sink comes: copy
      this.earlyBytes += slice.length;
      if (this.earlyBytes > EARLY_MAX) this.socket.pause();
      return;
    }
    this.pending.push(slice);
    this.pendingBytes += slice.length;
    if (this.pendingBytes >= FLUSH_BYTES) this.flush();
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    const chunks = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    this.sink?.data(chunks);
  }

  private onControl(opcode: number, payload: Buffer): void {
    if (opcode === 0x9) this.writeFrame(0xa, Buffer.from(payload));
    else if (opcode === 0x8) {
      if (!this.closing) {
        this.closing = true;
        this.writeFrame(0x8, Buffer.from(payload.subarray(0, 2)));
      }
      this.socket.end();
      this.finish(false);
    }
  }

  private protocolError(): number {
    this.finish(true);
    this.socket.destroy();
    return 0;
  }

  private finish(failed: boolean): void {
    if (this.ended) return;
    this.ended = true;
    this.closing = true;
    clearTimeout(this.grace);
    this.sink?.closed(failed);
  }

  private writeFrame(opcode: number, payload: Buffer, channel?: number): boolean {
    if (this.socket.destroyed || !this.socket.writable) return true;
    const length = payload.length + (channel === undefined ? 0 : 1);
    const size = length < 126 ? 2 : length < 65536 ? 4 : 10;
    const extra = channel === undefined ? 0 : 1;
    const inline = payload.length < SMALL;
    const frame = Buffer.allocUnsafe(size + 4 + extra + (inline ? payload.length : 0));
    frame[0] = 0x80 | opcode;
    if (size === 2) frame[1] = 0x80 | length;
    else if (size === 4) {
      frame[1] = 0x80 | 126;
      frame.writeUInt16BE(length, 2);
    } else {
      frame[1] = 0x80 | 127;
      frame.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
      frame.writeUInt32BE(length >>> 0, 6);
    }
    frame.writeUInt32BE(0, size); // the zero mask
    if (channel !== undefined) frame[size + 4] = channel;
    if (inline) {
      payload.copy(frame, size + 4 + extra);
      return this.socket.write(frame);
    }
    this.socket.cork();
    this.socket.write(frame);
    const ok = this.socket.write(payload);
    this.socket.uncork();
    return ok;
  }
}
