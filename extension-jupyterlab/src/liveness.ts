/**
 * Does the page still have a Jupyter server? The event stream (`GET ray-connect/events`) carries a `heartbeat` event
 * every N seconds, N announced in the first one. No byte for 2.5 N (a proxy such as configurable-http-proxy keeps a
 * dead server's stream open and silent), or the stream failing or ending, and the server not answering a probe,
 * means "lost". Then the server is probed with backoff (1, 2, 4, 8, 10, 10... s) until it answers, and the stream is
 * opened again: "live", with the server's id so the caller can tell a new server from the old one.
 *
 * Pure logic: the stream, the probe and the clock are passed in (headless tests drive them with a fake clock).
 */

import type { ClusterSummary, ConnectionSummary } from '@ray-connect/shared';

/** The interval a server announces in its first heartbeat; assumed until it does (an older server says nothing). */
export const DEFAULT_HEARTBEAT_SECONDS = 15;
/** Missed heartbeats that mean "lost": a deadline of 2.5 intervals after the last byte. */
export const MISSED_HEARTBEATS = 2.5;
/** Waits between probes while lost. */
export const BACKOFF_MS: readonly number[] = [1000, 2000, 4000, 8000, 10_000];
/** A probe (the version endpoint) that takes longer than this failed. */
export const PROBE_TIMEOUT_MS = 5000;

export interface LivenessClock {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemLivenessClock: LivenessClock = {
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof globalThis.setTimeout>),
};

/** The wait before probe number `attempt` (0-based) while lost. */
export function backoffMs(attempt: number): number {
  return BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)]!;
}

/** The silence after which the stream counts as dead, for a heartbeat interval in seconds. */
export function deadlineMs(intervalSeconds: number): number {
  return Math.round(MISSED_HEARTBEATS * intervalSeconds * 1000);
}

/** What the server sends every N seconds (the first one at once): `{type: 'heartbeat', intervalSeconds, serverId}`. */
export interface Heartbeat {
  type: 'heartbeat';
  intervalSeconds: number;
  /** Random per server process: a different id after "lost" means a new server (its agent is new too). */
  serverId: string;
}

export function isHeartbeat(data: unknown): data is Heartbeat {
  const d = data as Partial<Heartbeat> | null;
  return (
    typeof d === 'object' &&
    d !== null &&
    d.type === 'heartbeat' &&
    typeof d.intervalSeconds === 'number' &&
    d.intervalSeconds > 0 &&
    typeof d.serverId === 'string'
  );
}

/** Splits server-sent-event text into the `data:` payloads of complete blocks; returns the unfinished rest. */
export function parseSse(buffer: string): { data: string[]; rest: string } {
  const data: string[] = [];
  let rest = buffer.replace(/\r\n/g, '\n');
  let cut: number;
  while ((cut = rest.indexOf('\n\n')) >= 0) {
    const block = rest.slice(0, cut);
    rest = rest.slice(cut + 2);
    const lines = block
      .split('\n')
      .filter((l) => l.startsWith('data:'))
      .map((l) => l.slice(5).replace(/^ /, ''));
    if (lines.length) data.push(lines.join('\n'));
  }
  return { data, rest };
}

export type LostReason = 'silent' | 'ended' | 'failed';

export interface LivenessDeps {
  /**
   * Opens the event stream: resolves when it ends, rejects when it fails, stops when `signal` aborts. Text as it
   * arrives goes to `onText`.
   */
  open(signal: AbortSignal, onText: (text: string) => void): Promise<void>;
  /** Whether the server answers (the version endpoint, with the server extension's own answer). */
  probe(signal: AbortSignal): Promise<boolean>;
  clock?: LivenessClock;
}

export interface LivenessCallbacks {
  /** Every event of the stream but heartbeats, parsed. */
  onEvent(event: unknown): void;
  /** The stream is open and the server announced itself: first time (`wasLost` false) or after a loss. */
  onLive(info: {
    serverId: string | undefined;
    previousServerId: string | undefined;
    wasLost: boolean;
  }): void;
  /** The server is gone: said once per loss. */
  onLost(reason: LostReason): void;
  /** The stream broke but the server answered at once: reopened without a loss (for the log). */
  onBlip?(reason: LostReason): void;
}

export type LivenessState = 'connecting' | 'live' | 'lost';

/** Follows the event stream until `stop()`, deciding live / lost as described above. */
export class LivenessMonitor {
  private _state: LivenessState = 'connecting';
  private _intervalSeconds = DEFAULT_HEARTBEAT_SECONDS;
  private _serverId: string | undefined;
  private readonly _stop = new AbortController();
  private readonly clock: LivenessClock;
  private _wake: (() => void) | undefined;
  /** Streams that broke in a row while the server answered. */
  private _blips = 0;

  constructor(
    private readonly deps: LivenessDeps,
    private readonly cb: LivenessCallbacks,
  ) {
    this.clock = deps.clock ?? systemLivenessClock;
  }

  get state(): LivenessState {
    return this._state;
  }
  /** The heartbeat interval in use (announced by the server, else the default). */
  get intervalSeconds(): number {
    return this._intervalSeconds;
  }

  stop(): void {
    this._stop.abort();
    this._wake?.();
  }

  /** While lost: probe now instead of waiting out the backoff (a Retry button). */
  retryNow(): void {
    this._wake?.();
  }

  /** Runs until `stop()`. */
  async run(): Promise<void> {
    const stopped = this._stop.signal;
    while (!stopped.aborted) {
      const reason = await this.follow();
      if (stopped.aborted) return;
      // The stream is gone. A server that answers at once had a blip (a proxy closed the request): reopen.
      if (this._state !== 'lost' && reason !== 'silent' && (await this.probe())) {
        this.cb.onBlip?.(reason);
        this._state = 'connecting'; // the next heartbeat says "live" again: the caller reloads what it missed
        // a stream that keeps breaking while the server answers: wait longer each time (reset by a heartbeat)
        await this.sleep(backoffMs(this._blips++));
        continue;
      }
      if (stopped.aborted) return;
      if (this._state !== 'lost') {
        this._state = 'lost';
        this.cb.onLost(reason);
      }
      for (let attempt = 0; !stopped.aborted; attempt++) {
        await this.sleep(backoffMs(attempt));
        if (stopped.aborted || (await this.probe())) break;
      }
    }
  }

  /** One stream: resolves with why it is over. */
  private async follow(): Promise<LostReason> {
    const attempt = new AbortController();
    const onStop = (): void => attempt.abort();
    this._stop.signal.addEventListener('abort', onStop);
    let silent = false;
    let timer: unknown;
    const arm = (): void => {
      if (timer !== undefined) this.clock.clearTimeout(timer);
      timer = this.clock.setTimeout(() => {
        silent = true;
        attempt.abort();
      }, deadlineMs(this._intervalSeconds));
    };
    let buffer = '';
    const onText = (text: string): void => {
      if (attempt.signal.aborted) return;
      arm();
      const parsed = parseSse(buffer + text);
      buffer = parsed.rest;
      for (const raw of parsed.data) {
        let event: unknown;
        try {
          event = JSON.parse(raw);
        } catch {
          continue; // not JSON: ignore
        }
        if (isHeartbeat(event)) {
          this._intervalSeconds = event.intervalSeconds;
          this._blips = 0;
          arm();
          if (this._state !== 'live') this.becomeLive(event.serverId);
          else if (event.serverId !== this._serverId) {
            // a new server behind a stream that never broke (cannot happen with one process; be safe)
            this._state = 'lost';
            this.becomeLive(event.serverId);
          }
          continue;
        }
        if (this._state !== 'live') this.becomeLive(undefined);
        this.cb.onEvent(event);
      }
    };
    arm();
    let reason: LostReason;
    try {
      await this.deps.open(attempt.signal, onText);
      reason = silent ? 'silent' : 'ended';
    } catch {
      reason = silent ? 'silent' : 'failed';
    } finally {
      if (timer !== undefined) this.clock.clearTimeout(timer);
      this._stop.signal.removeEventListener('abort', onStop);
      attempt.abort();
    }
    return reason;
  }

  private becomeLive(serverId: string | undefined): void {
    const wasLost = this._state === 'lost';
    const previousServerId = this._serverId;
    this._state = 'live';
    if (serverId !== undefined) this._serverId = serverId;
    this.cb.onLive({ serverId, previousServerId, wasLost });
  }

  private async probe(): Promise<boolean> {
    const ctl = new AbortController();
    const timer = this.clock.setTimeout(() => ctl.abort(), PROBE_TIMEOUT_MS);
    try {
      return await Promise.race([
        this.deps.probe(ctl.signal).catch(() => false),
        new Promise<boolean>((r) => ctl.signal.addEventListener('abort', () => r(false))),
      ]);
    } finally {
      this.clock.clearTimeout(timer);
      ctl.abort();
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.clock.clearTimeout(timer);
        this._wake = undefined;
        resolve();
      };
      const timer = this.clock.setTimeout(done, ms);
      this._wake = done;
    });
  }
}

/** What the page showed when the server was lost. */
export interface StateAtLoss {
  connections: readonly ConnectionSummary[];
  /** Ids of the clusters signed in then. */
  signedIn: ReadonlySet<string>;
}

/** What the server that answers again no longer has: connections (by name) and sign-ins (by cluster name). */
export function lostInOutage(
  before: StateAtLoss,
  after: { connections: readonly ConnectionSummary[]; clusters: readonly ClusterSummary[] },
): { lostConnections: string[]; lostSignIns: string[] } {
  const key = (c: ConnectionSummary): string => `${c.clusterId}/${c.namespace}/${c.name}`;
  const now = new Set(after.connections.filter((c) => c.state !== 'disconnected').map(key));
  return {
    lostConnections: before.connections
      .filter((c) => c.state !== 'disconnected' && !now.has(key(c)))
      .map((c) => c.name),
    lostSignIns: after.clusters
      .filter((c) => before.signedIn.has(c.id) && c.signIn.status !== 'signed-in')
      .map((c) => c.name),
  };
}
