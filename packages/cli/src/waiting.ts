// How the CLI shows that it waits (a device sign-in): on a TTY one spinner line with the time left, redrawn on
// stderr; otherwise (a pipe, a log, TERM=dumb) one line per state change. Never stdout: `eval "$(ray-connect env)"`.

export interface WaitStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

/** The timer the spinner uses; tests pass a fake one. */
export interface WaitTimer {
  now(): number;
  every(ms: number, tick: () => void): () => void;
}

export const systemTimer: WaitTimer = {
  now: () => Date.now(),
  every(ms, tick) {
    const handle = setInterval(tick, ms);
    handle.unref();
    return () => clearInterval(handle);
  },
};

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export interface Waiting {
  /** The wait is over: `line` says how (approved, expired, cancelled). */
  done(line: string): void;
}

/** `m:ss` left until `until`, never negative. */
export function timeLeft(until: number, now: number): string {
  const seconds = Math.max(0, Math.ceil((until - now) / 1000));
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
}

/** Starts showing "<what> — m:ss left" until done(). */
export function showWaiting(
  stream: WaitStream,
  what: string,
  until: number,
  options: { tty?: boolean; timer?: WaitTimer } = {},
): Waiting {
  const timer = options.timer ?? systemTimer;
  const tty = options.tty ?? stream.isTTY === true;
  if (!tty) {
    stream.write(`${what} (the code expires in ${timeLeft(until, timer.now())})\n`);
    return { done: (line) => void stream.write(`${line}\n`) };
  }
  let frame = 0;
  const draw = () => {
    stream.write(
      `\r\x1b[2K${FRAMES[frame++ % FRAMES.length]} ${what} — ${timeLeft(until, timer.now())} left`,
    );
  };
  draw();
  const stop = timer.every(250, draw);
  return {
    done(line) {
      stop();
      stream.write(`\r\x1b[2K${line}\n`);
    },
  };
}
