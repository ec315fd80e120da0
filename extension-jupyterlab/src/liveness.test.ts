import type { ClusterSummary, ConnectionSummary } from '@ray-connect/shared';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  LivenessMonitor,
  PROBE_TIMEOUT_MS,
  backoffMs,
  deadlineMs,
  lostInOutage,
  parseSse,
  type LivenessCallbacks,
  type LostReason,
} from './liveness.js';

const beat = (serverId: string, intervalSeconds = 10): string =>
  `data: ${JSON.stringify({ type: 'heartbeat', intervalSeconds, serverId })}\n\n`;

/** A server the monitor talks to: up or down, with at most one open stream the test writes to. */
class FakeServer {
  up = true;
  id = 'server-1';
  /** The probe never answers (a proxy holding the request). */
  probeHangs = false;
  probes = 0;
  opens = 0;
  private stream: { onText: (t: string) => void; end: () => void; fail: (e: Error) => void } | undefined;

  readonly deps = {
    open: (signal: AbortSignal, onText: (t: string) => void): Promise<void> => {
      this.opens++;
      if (!this.up) return Promise.reject(new Error('connection refused'));
      return new Promise<void>((resolve, reject) => {
        const stream = { onText, end: resolve, fail: reject };
        this.stream = stream;
        signal.addEventListener('abort', () => reject(new Error('aborted')));
        // the server announces itself at once
        queueMicrotask(() => onText(beat(this.id)));
      }).finally(() => (this.stream = undefined));
    },
    probe: (): Promise<boolean> => {
      this.probes++;
      if (this.probeHangs) return new Promise<boolean>(() => undefined);
      return Promise.resolve(this.up);
    },
  };

  get streaming(): boolean {
    return this.stream !== undefined;
  }
  send(text: string): void {
    this.stream?.onText(text);
  }
  /** Killed: the socket closes, new connections are refused. */
  kill(): void {
    this.up = false;
    this.stream?.fail(new Error('network error'));
  }
  /** Gone behind a proxy that keeps the stream open and silent; the proxy refuses new requests. */
  vanishSilently(): void {
    this.up = false;
  }
  /** The stream ends but the server is still there (a proxy timeout). */
  endStream(): void {
    this.stream?.end();
  }
  restart(id: string): void {
    this.up = true;
    this.id = id;
  }
}

function recorder() {
  const log: string[] = [];
  const events: unknown[] = [];
  const cb: LivenessCallbacks = {
    onEvent: (e) => events.push(e),
    onLive: (i) => log.push(`live ${i.serverId} prev=${i.previousServerId} wasLost=${i.wasLost}`),
    onLost: (r: LostReason) => log.push(`lost ${r}`),
    onBlip: (r: LostReason) => log.push(`blip ${r}`),
  };
  return { log, events, cb };
}

describe('LivenessMonitor', () => {
  let server: FakeServer;
  let monitor: LivenessMonitor | undefined;
  beforeEach(() => {
    vi.useFakeTimers();
    server = new FakeServer();
  });
  afterEach(async () => {
    monitor?.stop();
    await vi.runOnlyPendingTimersAsync();
    vi.useRealTimers();
  });

  function start() {
    const r = recorder();
    monitor = new LivenessMonitor(server.deps, r.cb);
    const done = monitor.run();
    return { ...r, done };
  }

  it('is live once the server announces itself, and takes the interval it announces', async () => {
    const { log } = start();
    await vi.advanceTimersByTimeAsync(0);
    expect(log).toEqual(['live server-1 prev=undefined wasLost=false']);
    expect(monitor!.state).toBe('live');
    expect(monitor!.intervalSeconds).toBe(10);
  });

  it('stays live while heartbeats come', async () => {
    const { log } = start();
    for (let i = 0; i < 12; i++) {
      await vi.advanceTimersByTimeAsync(10_000);
      server.send(beat('server-1'));
    }
    expect(log).toEqual(['live server-1 prev=undefined wasLost=false']);
    expect(server.opens).toBe(1);
  });

  it('a silent stream (the server gone behind a proxy) is lost after 2.5 intervals, not before', async () => {
    const { log } = start();
    await vi.advanceTimersByTimeAsync(0);
    server.vanishSilently();
    await vi.advanceTimersByTimeAsync(deadlineMs(10) - 1);
    expect(monitor!.state).toBe('live');
    await vi.advanceTimersByTimeAsync(1);
    expect(log.at(-1)).toBe('lost silent');
    expect(monitor!.state).toBe('lost');
    expect(deadlineMs(10)).toBe(25_000); // within the 30 s the panel promises
  });

  it('any event counts as a sign of life, not only heartbeats', async () => {
    const { events } = start();
    await vi.advanceTimersByTimeAsync(0);
    for (let i = 0; i < 5; i++) {
      await vi.advanceTimersByTimeAsync(20_000);
      server.send(`data: {"type":"log","level":"info","message":"m${i}"}\n\n`);
    }
    expect(monitor!.state).toBe('live');
    expect(events).toHaveLength(5);
  });

  it('a killed server is lost at once, probed with backoff, and a new one is live again without a reload', async () => {
    const { log } = start();
    await vi.advanceTimersByTimeAsync(0);
    server.kill();
    await vi.advanceTimersByTimeAsync(0);
    expect(log.at(-1)).toBe('lost failed');
    const probesAtLoss = server.probes; // the one probe that decided it
    expect(probesAtLoss).toBe(1);
    // backoff 1 s, 2 s, 4 s, 8 s, 10 s, 10 s: probes at +1, +3, +7, +15, +25, +35
    await vi.advanceTimersByTimeAsync(35_000);
    expect(server.probes - probesAtLoss).toBe(6);
    await vi.advanceTimersByTimeAsync(9_000);
    expect(server.probes - probesAtLoss).toBe(6);
    expect(server.opens).toBe(1); // no stream is tried while the probe fails

    server.restart('server-2');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(log).toEqual([
      'live server-1 prev=undefined wasLost=false',
      'lost failed',
      'live server-2 prev=server-1 wasLost=true',
    ]);
    expect(monitor!.state).toBe('live');
  });

  it('retryNow probes at once instead of waiting out the backoff', async () => {
    const { log } = start();
    await vi.advanceTimersByTimeAsync(0);
    server.kill();
    await vi.advanceTimersByTimeAsync(30_000);
    server.restart('server-2');
    monitor!.retryNow();
    await vi.advanceTimersByTimeAsync(0);
    expect(log.at(-1)).toBe('live server-2 prev=server-1 wasLost=true');
  });

  it('a stream that ends while the server answers is a blip: reopened, never "lost"', async () => {
    const { log } = start();
    await vi.advanceTimersByTimeAsync(0);
    server.endStream();
    await vi.advanceTimersByTimeAsync(0);
    expect(log.at(-1)).toBe('blip ended');
    await vi.advanceTimersByTimeAsync(backoffMs(0));
    expect(server.streaming).toBe(true);
    expect(log).toEqual([
      'live server-1 prev=undefined wasLost=false',
      'blip ended',
      'live server-1 prev=server-1 wasLost=false',
    ]);
  });

  it('a stream that keeps breaking is retried with growing waits', async () => {
    start();
    await vi.advanceTimersByTimeAsync(0);
    server.deps.open = () => {
      server.opens++;
      return Promise.reject(new Error('404'));
    };
    server.endStream();
    await vi.advanceTimersByTimeAsync(1_000 + 2_000 + 4_000);
    const opens = server.opens;
    await vi.advanceTimersByTimeAsync(7_999);
    expect(server.opens).toBe(opens);
    await vi.advanceTimersByTimeAsync(1);
    expect(server.opens).toBe(opens + 1);
  });

  it('a probe that never answers counts as failed', async () => {
    const { log } = start();
    await vi.advanceTimersByTimeAsync(0);
    server.probeHangs = true;
    server.kill();
    await vi.advanceTimersByTimeAsync(PROBE_TIMEOUT_MS - 1);
    expect(monitor!.state).toBe('live');
    await vi.advanceTimersByTimeAsync(1);
    expect(log.at(-1)).toBe('lost failed');
  });

  it('a server that never announces itself gets the default deadline', async () => {
    server.deps.open = (signal) =>
      new Promise<void>((_, reject) => signal.addEventListener('abort', () => reject(new Error('x'))));
    server.up = false; // (the probe)
    const { log } = start();
    await vi.advanceTimersByTimeAsync(deadlineMs(15) - 1);
    expect(log).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(log).toEqual(['lost silent']);
  });

  it('passes events through, not heartbeats, across chunk boundaries', async () => {
    const { events } = start();
    await vi.advanceTimersByTimeAsync(0);
    server.send('data: {"type":"clusters-');
    server.send('changed"}\n\n: a comment\n\n' + beat('server-1') + 'data: not json\n\n');
    expect(events).toEqual([{ type: 'clusters-changed' }]);
  });

  it('stop() ends run()', async () => {
    const { done } = start();
    await vi.advanceTimersByTimeAsync(0);
    monitor!.stop();
    await expect(done).resolves.toBeUndefined();
    server.kill();
    expect(monitor!.state).toBe('live');
  });
});

describe('parseSse', () => {
  it('returns complete data payloads and the rest', () => {
    expect(parseSse('data: a\n\n: ping\n\ndata: b\ndata: c\n\ndata: d')).toEqual({
      data: ['a', 'b\nc'],
      rest: 'data: d',
    });
    expect(parseSse('data:x\r\n\r\n')).toEqual({ data: ['x'], rest: '' });
  });
});

describe('lostInOutage', () => {
  const conn = (name: string, state: ConnectionSummary['state'] = 'ready') =>
    ({ clusterId: 'c1', namespace: 'ns', name, state }) as ConnectionSummary;
  const cluster = (id: string, name: string, signedIn: boolean) =>
    ({ id, name, signIn: { status: signedIn ? 'signed-in' : 'signed-out' } }) as ClusterSummary;

  it('names the connections and sign-ins the server no longer has', () => {
    const before = {
      connections: [conn('a'), conn('b'), conn('gone-before', 'disconnected')],
      signedIn: new Set(['c1', 'c2']),
    };
    expect(
      lostInOutage(before, {
        connections: [conn('b'), conn('a', 'disconnected')],
        clusters: [cluster('c1', 'sandbox', false), cluster('c2', 'prod', true), cluster('c3', 'x', false)],
      }),
    ).toEqual({ lostConnections: ['a'], lostSignIns: ['sandbox'] });
  });
  it('nothing lost: empty lists', () => {
    const before = { connections: [conn('a')], signedIn: new Set(['c1']) };
    expect(
      lostInOutage(before, { connections: [conn('a')], clusters: [cluster('c1', 'sandbox', true)] }),
    ).toEqual({ lostConnections: [], lostSignIns: [] });
  });
});
