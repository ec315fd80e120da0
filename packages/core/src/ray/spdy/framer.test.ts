import { constants, inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { SPDY3_DICTIONARY } from './dictionary.js';
import {
  FLAG_FIN,
  FrameParser,
  HeaderCompressor,
  TYPE_RST_STREAM,
  TYPE_SYN_STREAM,
  dataHeader,
  decodeHeaderBlock,
  rstStream,
  synStream,
  type SpdyFrame,
} from './framer.js';

const inflate = (b: Buffer) =>
  inflateSync(b, { dictionary: SPDY3_DICTIONARY, finishFlush: constants.Z_SYNC_FLUSH });

describe('SPDY/3.1 framer', () => {
  it('has the 1423-byte SPDY/3 dictionary', () => {
    expect(SPDY3_DICTIONARY.length).toBe(1423);
    expect(SPDY3_DICTIONARY.subarray(0, 11).toString('latin1')).toBe('\0\0\0\x07options');
  });

  it('writes SYN_STREAM frames whose header blocks form one zlib stream with the dictionary', () => {
    const c = new HeaderCompressor();
    const a = synStream(c, 1, { streamtype: 'error', port: '8080', requestid: '0' });
    const b = synStream(c, 3, { streamtype: 'data', port: '8080', requestid: '0' }, FLAG_FIN);
    const frames: SpdyFrame[] = [];
    const p = new FrameParser();
    const wire = Buffer.concat([a, b]);
    // Byte by byte: frames straddle every possible boundary.
    for (let i = 0; i < wire.length; i++) p.push(wire.subarray(i, i + 1), (f) => frames.push(f));
    expect(frames).toHaveLength(2);
    const blocks: Buffer[] = [];
    for (const [i, f] of frames.entries()) {
      if (f.kind !== 'control') throw new Error('not a control frame');
      expect(f.type).toBe(TYPE_SYN_STREAM);
      expect(f.flags).toBe(i === 1 ? FLAG_FIN : 0);
      expect(f.payload.readUInt32BE(0)).toBe(i === 0 ? 1 : 3);
      blocks.push(f.payload.subarray(10));
    }
    // The version bit and number.
    expect(a.readUInt16BE(0)).toBe(0x8003);
    const first = decodeHeaderBlock(inflate(blocks[0] as Buffer));
    expect(first).toEqual({ streamtype: 'error', port: '8080', requestid: '0' });
    const both = inflate(Buffer.concat(blocks));
    const second = decodeHeaderBlock(both.subarray(inflate(blocks[0] as Buffer).length));
    expect(second).toEqual({ streamtype: 'data', port: '8080', requestid: '0' });
  });

  it('parses DATA and control frames from chunks of any size, slicing payloads', () => {
    const payload = Buffer.alloc(70_000, 7);
    const wire = Buffer.concat([dataHeader(5, FLAG_FIN, payload.length), payload, rstStream(5)]);
    const frames: SpdyFrame[] = [];
    const p = new FrameParser();
    for (let i = 0; i < wire.length; i += 4096) p.push(wire.subarray(i, i + 4096), (f) => frames.push(f));
    expect(frames).toHaveLength(2);
    const [d, r] = frames;
    expect(d).toMatchObject({ kind: 'data', streamId: 5, flags: FLAG_FIN });
    expect(d?.kind === 'data' && d.data.equals(payload)).toBe(true);
    expect(r).toMatchObject({ kind: 'control', type: TYPE_RST_STREAM });
    expect(r?.kind === 'control' && r.payload.readUInt32BE(4)).toBe(5);
  });

  it('reassembles many frames split at arbitrary points', () => {
    const frames: Buffer[] = [];
    for (let i = 0; i < 200; i++) {
      const payload = Buffer.alloc((i * 7919) % 5000, i & 0xff);
      frames.push(i % 5 === 4 ? rstStream(i) : Buffer.concat([dataHeader(i, 0, payload.length), payload]));
    }
    const wire = Buffer.concat(frames);
    const got: SpdyFrame[] = [];
    const p = new FrameParser();
    let off = 0;
    for (let n = 1; off < wire.length; n = (n * 31 + 7) % 9000) {
      p.push(wire.subarray(off, off + n), (f) => got.push(f));
      off += n;
    }
    expect(got).toHaveLength(200);
    got.forEach((f, i) => {
      if (i % 5 === 4) expect(f).toMatchObject({ kind: 'control', type: TYPE_RST_STREAM });
      else {
        expect(f).toMatchObject({ kind: 'data', streamId: i });
        expect(f.kind === 'data' && f.data.equals(Buffer.alloc((i * 7919) % 5000, i & 0xff))).toBe(true);
      }
    });
  });
});
