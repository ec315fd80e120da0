import { SPDY3_DICTIONARY } from './dictionary.js';

/**
 * A minimal SPDY/3.1 client framer: what a port-forward client needs (SYN_STREAM, DATA, RST_STREAM, PING echo,
 * GOAWAY) to talk to the kubelet's moby/spdystream server through the API server's websocket tunnel
 * (`SPDY/3.1+portforward.k8s.io`: raw SPDY bytes in binary websocket messages, no channel prefix, message
 * boundaries unrelated to frame boundaries).
 *
 * Control frame: |1|version(15)=3|type(16)|flags(8)|length(24)|payload. Data frame: |0|stream id(31)|flags(8)|
 * length(24)|payload. spdystream ignores SETTINGS and WINDOW_UPDATE (no flow control), echoes PINGs of the other
 * side's parity, and drops DATA on a stream it has not replied to yet (so wait for SYN_REPLY before sending).
 */
export const SPDY_VERSION = 3;
export const TYPE_SYN_STREAM = 1;
export const TYPE_SYN_REPLY = 2;
export const TYPE_RST_STREAM = 3;
export const TYPE_SETTINGS = 4;
export const TYPE_PING = 6;
export const TYPE_GOAWAY = 7;
export const TYPE_HEADERS = 8;
export const TYPE_WINDOW_UPDATE = 9;
export const FLAG_FIN = 0x01;
export const RST_CANCEL = 5;
/** Largest DATA payload we send in one frame (the length field has 24 bits). */
export const MAX_DATA = 0xffffff;

export type SpdyFrame =
  | { kind: 'data'; streamId: number; flags: number; data: Buffer }
  | { kind: 'control'; type: number; flags: number; payload: Buffer };

function adler32(data: Buffer): number {
  let a = 1;
  let b = 0;
  for (let i = 0; i < data.length; i++) {
    a = (a + data.readUInt8(i)) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}

const DICT_ID = adler32(SPDY3_DICTIONARY);
const SYNC_MARK = Buffer.from([0x00, 0x00, 0x00, 0xff, 0xff]);

/**
 * The sending side of SPDY header compression: one zlib stream (with the SPDY/3 dictionary) for the whole
 * connection. Each header block is emitted as a deflate "stored" block (no compression, byte aligned), which any
 * inflater accepts and which needs no zlib state: the first block carries the zlib header (CMF 0x78, FLG 0x20 =
 * FDICT, check bits 0 since 0x7820 % 31 == 0) and the dictionary's adler32.
 */
export class HeaderCompressor {
  private started = false;

  compress(block: Buffer): Buffer {
    const parts: Buffer[] = [];
    if (!this.started) {
      this.started = true;
      const head = Buffer.alloc(6);
      head[0] = 0x78;
      head[1] = 0x20;
      head.writeUInt32BE(DICT_ID, 2);
      parts.push(head);
    }
    for (let off = 0; off < block.length; off += 0xffff) {
      const piece = block.subarray(off, off + 0xffff);
      const h = Buffer.alloc(5);
      h[0] = 0x00; // BFINAL 0, BTYPE 00 (stored), padded to the byte
      h.writeUInt16LE(piece.length, 1);
      h.writeUInt16LE(~piece.length & 0xffff, 3);
      parts.push(h, piece);
    }
    // An empty stored block, as zlib's Z_SYNC_FLUSH ends: Go's inflater hands out a stored block's bytes only
    // once it has read the next block's header, which must lie inside this frame.
    parts.push(SYNC_MARK);
    return Buffer.concat(parts);
  }
}

/** Encodes a SPDY/3 name/value block (uncompressed): count, then length-prefixed lowercase names and values. */
export function encodeHeaderBlock(headers: Record<string, string>): Buffer {
  const entries = Object.entries(headers);
  const parts: Buffer[] = [];
  const count = Buffer.alloc(4);
  count.writeUInt32BE(entries.length);
  parts.push(count);
  for (const [name, value] of entries) {
    for (const s of [name.toLowerCase(), value]) {
      const b = Buffer.from(s, 'utf8');
      const len = Buffer.alloc(4);
      len.writeUInt32BE(b.length);
      parts.push(len, b);
    }
  }
  return Buffer.concat(parts);
}

/** Decodes an uncompressed name/value block (for tests and diagnostics). */
export function decodeHeaderBlock(block: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let off = 4;
  const n = block.readUInt32BE(0);
  for (let i = 0; i < n; i++) {
    const nl = block.readUInt32BE(off);
    const name = block.subarray(off + 4, off + 4 + nl).toString('utf8');
    off += 4 + nl;
    const vl = block.readUInt32BE(off);
    out[name] = block.subarray(off + 4, off + 4 + vl).toString('utf8');
    off += 4 + vl;
  }
  return out;
}

export function controlFrame(type: number, flags: number, payload: Buffer): Buffer {
  const h = Buffer.allocUnsafe(8 + payload.length);
  h.writeUInt16BE(0x8000 | SPDY_VERSION, 0);
  h.writeUInt16BE(type, 2);
  h.writeUInt32BE(((flags & 0xff) << 24) | payload.length, 4);
  payload.copy(h, 8);
  return h;
}

export function synStream(
  compressor: HeaderCompressor,
  streamId: number,
  headers: Record<string, string>,
  flags = 0,
): Buffer {
  const block = compressor.compress(encodeHeaderBlock(headers));
  const p = Buffer.alloc(10 + block.length);
  p.writeUInt32BE(streamId & 0x7fffffff, 0);
  p.writeUInt32BE(0, 4); // associated stream
  p[8] = 0; // priority 0 (highest) in the top 3 bits
  p[9] = 0; // slot
  block.copy(p, 10);
  return controlFrame(TYPE_SYN_STREAM, flags, p);
}

export function rstStream(streamId: number, status = RST_CANCEL): Buffer {
  const p = Buffer.alloc(8);
  p.writeUInt32BE(streamId & 0x7fffffff, 0);
  p.writeUInt32BE(status, 4);
  return controlFrame(TYPE_RST_STREAM, 0, p);
}

export function goAway(lastGoodStreamId = 0, status = 0): Buffer {
  const p = Buffer.alloc(8);
  p.writeUInt32BE(lastGoodStreamId & 0x7fffffff, 0);
  p.writeUInt32BE(status, 4);
  return controlFrame(TYPE_GOAWAY, 0, p);
}

/** The 8-byte header of a DATA frame; the payload follows (sent separately, so it is not copied). */
export function dataHeader(streamId: number, flags: number, length: number): Buffer {
  const h = Buffer.allocUnsafe(8);
  h.writeUInt32BE(streamId & 0x7fffffff, 0);
  h.writeUInt32BE(((flags & 0xff) << 24) | length, 4);
  return h;
}

/** The stream id of a SYN_REPLY / RST_STREAM payload. */
export function streamIdOf(payload: Buffer): number {
  return payload.readUInt32BE(0) & 0x7fffffff;
}

/**
 * Splits a byte stream (websocket messages, any boundaries) into SPDY frames. A frame inside one chunk is sliced,
 * not copied; only frames that straddle chunks are assembled.
 */
export class FrameParser {
  private pending: Buffer[] = [];
  private pendingLength = 0;
  /** Size of the straddling frame, once its header is complete; 0 = not known yet. */
  private total = 0;

  push(chunk: Buffer, onFrame: (frame: SpdyFrame) => void): void {
    let off = 0;
    if (this.pendingLength > 0) {
      // Complete the frame that straddles chunks, copying only its own bytes.
      if (this.pendingLength < 8) {
        const take = Math.min(8 - this.pendingLength, chunk.length);
        this.pending.push(chunk.subarray(0, take));
        this.pendingLength += take;
        off = take;
        if (this.pendingLength < 8) return;
      }
      // The header is read once per straddling frame (the pieces are at least its 8 bytes by now).
      this.total ||= 8 + (Buffer.concat(this.pending, 8).readUInt32BE(4) & 0xffffff);
      const total = this.total;
      const take = Math.min(total - this.pendingLength, chunk.length - off);
      this.pending.push(chunk.subarray(off, off + take));
      this.pendingLength += take;
      off += take;
      if (this.pendingLength < total) return;
      const frame = Buffer.concat(this.pending, total);
      this.pending = [];
      this.pendingLength = 0;
      this.total = 0;
      this.parse(frame, 0, onFrame);
    }
    const end = this.parse(chunk, off, onFrame);
    if (end < chunk.length) {
      this.pending.push(chunk.subarray(end));
      this.pendingLength = chunk.length - end;
    }
  }

  /** Emits the whole frames in buf from off; returns where the first incomplete one starts. */
  private parse(buf: Buffer, off: number, onFrame: (frame: SpdyFrame) => void): number {
    while (buf.length - off >= 8) {
      const length = buf.readUInt32BE(off + 4) & 0xffffff;
      if (buf.length - off < 8 + length) break;
      const first = buf.readUInt32BE(off);
      const flags = buf.readUInt8(off + 4);
      const body = buf.subarray(off + 8, off + 8 + length);
      off += 8 + length;
      if (first & 0x80000000) onFrame({ kind: 'control', type: first & 0xffff, flags, payload: body });
      else onFrame({ kind: 'data', streamId: first & 0x7fffffff, flags, data: body });
    }
    return off;
  }
}
