import { describe, expect, it } from 'vitest';
import { showWaiting, timeLeft, type WaitTimer } from './waiting.js';

function fakes() {
  let now = 1_000_000;
  const ticks: (() => void)[] = [];
  let stopped = 0;
  const timer: WaitTimer = {
    now: () => now,
    every: (_ms, tick) => {
      ticks.push(tick);
      return () => void stopped++;
    },
  };
  const written: string[] = [];
  const stream = { write: (t: string) => written.push(t) };
  return {
    timer,
    stream,
    written,
    advance(ms: number) {
      now += ms;
      for (const t of ticks) t();
    },
    get ticks() {
      return ticks.length;
    },
    get stopped() {
      return stopped;
    },
    get now() {
      return now;
    },
  };
}

describe('showWaiting', () => {
  it('not a TTY: one line when waiting starts, one when it ends; no redraws', () => {
    const f = fakes();
    const w = showWaiting(f.stream, 'Waiting for approval', f.now + 600_000, { tty: false, timer: f.timer });
    expect(f.ticks).toBe(0);
    w.done('Approved.');
    expect(f.written.join('')).toBe('Waiting for approval (the code expires in 10:00)\nApproved.\n');
  });

  it('a TTY: one spinner line with the time left, redrawn in place, cleared at the end', () => {
    const f = fakes();
    const w = showWaiting(f.stream, 'Waiting for approval', f.now + 65_000, { tty: true, timer: f.timer });
    f.advance(5_000);
    w.done('Approved.');
    expect(f.written[0]).toBe('\r\x1b[2K⠋ Waiting for approval — 1:05 left');
    expect(f.written[1]).toBe('\r\x1b[2K⠙ Waiting for approval — 1:00 left');
    expect(f.written.at(-1)).toBe('\r\x1b[2KApproved.\n');
    expect(f.written.join('').split('\n')).toHaveLength(2); // one line, then the end
    expect(f.stopped).toBe(1);
  });

  it('time left never goes below 0:00', () => {
    expect(timeLeft(1000, 5000)).toBe('0:00');
    expect(timeLeft(61_000, 0)).toBe('1:01');
  });
});
