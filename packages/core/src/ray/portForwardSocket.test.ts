import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { PortForwardSocket, type PortForwardSink } from './portForwardSocket.js';

/** The socket side PortForwardSocket uses, recording what it writes; reads are pushed with `arrive`. */
class FakeSocket extends EventEmitter {
  written: Buffer[] = [];
  destroyed = false;
  writable = true;
  writableLength = 0;
  paused = false;
  ended = false;
  setNoDelay() {}
  setTimeout() {}
  cork() {}
  uncork() {}
  pause() {
    this.paused = true;
  }
  resume() {
    this.paused = false;
  }
  write(b: Buffer) {
    this.written.push(Buffer.from(b));
    return true;
  }
  end() {
    this.ended = true;
    this.writable = false;
  }
  destroy() {
    if (this.destroyed) return;
    this.destroyed = true;
    this.emit('close');
  }
  arrive(...chunks: Buffer[]) {
    for (const c of chunks) this.emit('data', c);
  }
  /** What was written, joined (frames are never split across writes in a way that matters here). */
  sent(): Buffer {
    return Buffer.concat(this.written);
  }
}

function frame(opcode: number, payload: Buffer, { fin = true, mask = false } = {}): Buffer {
  const len = payload.length;
  const head =
    len < 126
      ? Buffer.from([0, len])
      : len < 65536
        ? Buffer.from([0, 126, len >> 8, len & 0xff])
        : Buffer.concat([Buffer.from([0, 127, 0, 0, 0, 0]), u32(len)]);
  head[0] = (fin ? 0x80 : 0) | opcode;
  if (mask) head[1] = (head[1] ?? 0) | 0x80;
  return Buffer.concat([head, mask ? Buffer.alloc(4) : Buffer.alloc(0), payload]);
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

const binary = (channel: number, body: Buffer | string, options?: { fin?: boolean }) =>
  frame(0x2, Buffer.concat([Buffer.from([channel]), Buffer.from(body)]), options);
const portHeader = (channel: number) => binary(channel, Buffer.from([0x51, 0x20])); // port 8273

function recorder() {
  const got = { data: [] as Buffer[], errors: [] as string[], closed: [] as boolean[] };
  const sink: PortForwardSink = {
    data: (chunks) => got.data.push(...chunks.map((c) => Buffer.from(c))),
    remoteError: (t) => got.errors.push(t),
    closed: (failed) => got.closed.push(failed),
  };
  return { got, sink, text: () => Buffer.concat(got.data).toString('latin1') };
}

function open() {
  const socket = new FakeSocket();
  const stream = new PortForwardSocket(socket as unknown as Socket, Buffer.alloc(0));
  return { socket, stream };
}

/** open() with a recording sink attached. */
function attached() {
  const { socket, stream } = open();
  const rec = recorder();
  stream.attach(rec.sink);
  return { socket, stream, ...rec };
}

describe('PortForwardSocket (v4.channel.k8s.io client)', () => {
  const wire = Buffer.concat([
    portHeader(0),
    portHeader(1),
    binary(0, 'hello '),
    binary(0, 'x'.repeat(300)), // 16-bit length
    binary(0, 'frag-', { fin: false }),
    frame(0x9, Buffer.from('p1')), // a ping between fragments
    frame(0x0, Buffer.from('ment '), { fin: false }),
    frame(0x0, Buffer.from('end')),
    binary(0, ''),
    binary(0, '!'),
  ]);
  const expected = `hello ${'x'.repeat(300)}frag-ment end!`;

  it('reads channel 0 exactly, wherever the reads split the frames', () => {
    for (let cut = 0; cut <= wire.length; cut++) {
      for (const second of [cut, Math.min(wire.length, cut + 3)]) {
        const { socket, text } = attached();
        socket.arrive(wire.subarray(0, cut), wire.subarray(cut, second), wire.subarray(second));
        expect(text()).toBe(expected);
        expect(socket.sent().equals(frame(0x0a, Buffer.from('p1'), { mask: true }))).toBe(true);
      }
    }
  });

  it('reads one byte at a time', () => {
    const { socket, text } = attached();
    for (const b of wire) socket.arrive(Buffer.from([b]));
    expect(text()).toBe(expected);
  });

  it('hands on a long frame (64-bit length) in slices that add up', () => {
    const { socket, got } = attached();
    const body = Buffer.alloc(200_000, 7);
    const bytes = Buffer.concat([portHeader(0), binary(0, body)]);
    for (let i = 0; i < bytes.length; i += 16384) socket.arrive(bytes.subarray(i, i + 16384));
    expect(Buffer.concat(got.data).equals(body)).toBe(true);
  });

  it('keeps what arrived before attach and hands it on first', () => {
    const { socket, stream } = open();
    socket.arrive(portHeader(0), binary(0, 'early '));
    const { sink, text } = recorder();
    stream.attach(sink);
    socket.arrive(binary(0, 'late'));
    expect(text()).toBe('early late');
  });

  it('reports the error channel (also before attach) and drops the connection', () => {
    for (const before of [true, false]) {
      const { socket, stream } = open();
      const { sink, got } = recorder();
      if (!before) stream.attach(sink);
      socket.arrive(
        portHeader(0),
        portHeader(1),
        binary(1, 'error forwarding port 8273: connection refused'),
      );
      if (before) stream.attach(sink);
      expect(got.errors).toEqual(['error forwarding port 8273: connection refused']);
      expect(socket.destroyed).toBe(true);
      expect(stream.isOpen).toBe(false);
    }
  });

  it('answers a close frame with one and says closed cleanly', () => {
    const { socket, stream, got } = attached();
    socket.arrive(frame(0x8, Buffer.from([0x03, 0xe8])));
    expect(got.closed).toEqual([false]);
    expect(socket.sent().equals(frame(0x8, Buffer.from([0x03, 0xe8]), { mask: true }))).toBe(true);
    expect(socket.ended).toBe(true);
    expect(stream.isOpen).toBe(false);
  });

  it('fails on a masked frame from the server (a protocol error)', () => {
    const { socket, got } = attached();
    socket.arrive(frame(0x2, Buffer.from([0, 1, 2]), { mask: true }));
    expect(got.closed).toEqual([true]);
    expect(socket.destroyed).toBe(true);
  });

  it('sends channel-0 frames masked with a zero key, small ones in one write, large ones header + payload', () => {
    for (const size of [10, 2000, 70_000]) {
      const { socket, stream } = open();
      const payload = Buffer.alloc(size, 0x61);
      expect(stream.send(payload)).toBe(true);
      const expectedFrame = frame(0x2, Buffer.concat([Buffer.from([0]), payload]), { mask: true });
      expect(socket.sent().equals(expectedFrame)).toBe(true);
      expect(socket.written.length).toBe(size < 1024 ? 1 : 2);
    }
  });

  it('close() sends a close frame and ends; it is no longer open, and sends nothing after', () => {
    const { socket, stream } = open();
    stream.close();
    expect(stream.isOpen).toBe(false);
    expect(socket.ended).toBe(true);
    const n = socket.written.length;
    stream.send(Buffer.from('late'));
    expect(socket.written.length).toBe(n);
  });

  it('counts as not open once the server ended its side', () => {
    const { socket, stream } = open();
    socket.emit('end');
    expect(stream.isOpen).toBe(false);
  });
});
