import type { ErrorInfo } from '@ray-connect/shared';
import { isRayConnectError, RayConnectError, wrapError } from '../errors.js';
import type { Clock } from '../ports/Clock.js';
import type { Logger } from '../ports/Logger.js';

export type HeadState = 'connecting' | 'ready' | 'reconnecting' | 'failed' | 'disconnected';

export interface HeadTarget {
  pod: string;
  uid?: string;
  /** The pod's IP (the direct path connects to it). */
  ip?: string;
}

export interface SuperviseHeadDeps {
  /** Finds the running head pod now (findHeadPod). */
  resolve(signal: AbortSignal): Promise<HeadTarget>;
  /** Proves the path once a pod is resolved (an HTTP probe through the forward). Throws when it does not work. */
  probe(signal: AbortSignal): Promise<void>;
  /** Called on every state change. */
  onState(state: HeadState, error?: ErrorInfo): void;
  clock: Clock;
  logger: Logger;
  /** Backoff between attempts: initial and maximum delay, and attempts before giving up (failed). */
  backoff?: { initialMs: number; maxMs: number; attempts: number };
  /** How often to check that the head pod is still the same one (0 = never; default 5000). */
  watchIntervalMs?: number;
  /** Until the first answer, give up (failed) after this long instead of retrying for minutes (default 30 s). */
  firstAnswerMs?: number;
}

export const FIRST_ANSWER_MS = 30_000;

export interface HeadSupervisor {
  readonly state: HeadState;
  readonly error: ErrorInfo | undefined;
  /** The head resolved now (undefined while resolving, failed or stopped). */
  readonly current: HeadTarget | undefined;
  /** The pod to forward to: waits while connecting/reconnecting, rejects when failed or stopped. */
  target(): Promise<string>;
  /** A stream to `pod` broke: re-resolve (once per broken pod) and reconnect with backoff. */
  reportBroken(pod: string, error: RayConnectError): void;
  /** Resolves when the first attempt settles: ready, or the error that made it fail. */
  started: Promise<void>;
  stop(): void;
}

const PERMANENT = new Set([
  'ACCESS_DENIED',
  'TOKEN_EXPIRED',
  'TOKEN_INVALID',
  'SIGNED_OUT',
  'RAYCLUSTER_NOT_FOUND',
  'REFRESH_FAILED',
]);

/**
 * Keeps a RayCluster's head pod resolved for its port-forwards: resolves it, probes the path, and when a
 * stream breaks or the pod changes (restarted, recreated) re-resolves and reconnects with exponential backoff.
 * States: connecting -> ready -> reconnecting -> ready ... or failed (permanent errors, or out of attempts).
 */
export function superviseHead(deps: SuperviseHeadDeps): HeadSupervisor {
  const backoff = deps.backoff ?? { initialMs: 500, maxMs: 15_000, attempts: 40 };
  const watchMs = deps.watchIntervalMs ?? 5000;
  const abort = new AbortController();
  let state: HeadState = 'connecting';
  let error: ErrorInfo | undefined;
  let current: HeadTarget | undefined;
  let waiters: { resolve: (pod: string) => void; reject: (e: unknown) => void }[] = [];
  let running = false;
  let generation = 0;
  /** A stream failed for good (no pods/portforward right...) while a probe was running: the probe's own error
   * (the dashboard did not answer) must not hide it and start minutes of retries. */
  let permanent: RayConnectError | undefined;
  /** What a stream said while an attempt ran (the kubelet's "no forward found for port ..."): it explains the
   * probe's bare "socket hang up". */
  let streamSaid: RayConnectError | undefined;
  let everReady = false;
  const startedAt = deps.clock.now();
  const firstAnswerMs = deps.firstAnswerMs ?? FIRST_ANSWER_MS;

  const setState = (next: HeadState, e?: ErrorInfo) => {
    error = e;
    if (next === state && next !== 'reconnecting') return;
    state = next;
    deps.onState(next, e);
  };
  const settleWaiters = () => {
    const list = waiters;
    waiters = [];
    for (const w of list) {
      if (current && state !== 'failed' && state !== 'disconnected') w.resolve(current.pod);
      else
        w.reject(
          new RayConnectError(
            error?.code ?? 'PORT_FORWARD_FAILED',
            error?.message ?? 'The port-forward stopped',
          ),
        );
    }
  };

  /** Resolve + probe until it works, with backoff. One loop at a time. */
  const establish = async (): Promise<void> => {
    if (running) return;
    running = true;
    const myGeneration = ++generation;
    let delay = backoff.initialMs;
    try {
      for (let attempt = 1; !abort.signal.aborted; attempt++) {
        streamSaid = undefined;
        try {
          current = await deps.resolve(abort.signal);
          settleWaiters();
          await deps.probe(abort.signal);
          everReady = true;
          setState('ready');
          return;
        } catch (e) {
          if (abort.signal.aborted) return;
          const pod = current?.pod;
          current = undefined;
          const probeErr = wrapError(e, 'Connecting to the Ray head', 'PORT_FORWARD_FAILED');
          const err =
            permanent ?? (probeErr.code === 'RAY_UNREACHABLE' ? (streamSaid ?? probeErr) : probeErr);
          const tooLong = !everReady && deps.clock.now() - startedAt >= firstAnswerMs;
          if (tooLong && !PERMANENT.has(err.code)) {
            setState('failed', noFirstAnswer(err, firstAnswerMs, pod).toInfo());
            settleWaiters();
            return;
          }
          if (PERMANENT.has(err.code) || attempt >= backoff.attempts) {
            setState('failed', err.toInfo());
            settleWaiters();
            return;
          }
          deps.logger.info('head not reachable yet, retrying', {
            attempt,
            code: err.code,
            reason: err.message,
          });
          setState(state === 'connecting' ? 'connecting' : 'reconnecting', err.toInfo());
          await deps.clock.sleep(delay, abort.signal).catch(() => undefined);
          delay = Math.min(delay * 2, backoff.maxMs);
        }
      }
    } finally {
      if (myGeneration === generation) running = false;
    }
  };

  const reconnect = (why: RayConnectError) => {
    if (abort.signal.aborted || running) return;
    current = undefined;
    setState('reconnecting', why.toInfo());
    void establish();
  };

  const watch = async () => {
    while (watchMs > 0 && !abort.signal.aborted) {
      await deps.clock.sleep(watchMs, abort.signal).catch(() => undefined);
      if (abort.signal.aborted || running || state !== 'ready' || current === undefined) continue;
      const seen = current;
      try {
        const now = await deps.resolve(abort.signal);
        if (now.pod !== seen.pod || (seen.uid && now.uid && now.uid !== seen.uid))
          reconnect(
            new RayConnectError('PORT_FORWARD_FAILED', `The head pod changed (${seen.pod} -> ${now.pod})`),
          );
      } catch (e) {
        if (!abort.signal.aborted) reconnect(wrapError(e, 'Checking the head pod', 'PORT_FORWARD_FAILED'));
      }
    }
  };

  const started = establish();
  void started.then(() => watch());

  return {
    get state() {
      return state;
    },
    get error() {
      return error;
    },
    get current() {
      return current;
    },
    started,
    target() {
      if (state === 'failed' || state === 'disconnected')
        return Promise.reject(
          new RayConnectError(
            error?.code ?? 'PORT_FORWARD_FAILED',
            error?.message ?? 'The port-forward stopped',
          ),
        );
      if (current && !running) return Promise.resolve(current.pod);
      if (current && running) return Promise.resolve(current.pod);
      return new Promise<string>((resolve, reject) => waiters.push({ resolve, reject }));
    },
    reportBroken(pod, e) {
      if (isRayConnectError(e) && PERMANENT.has(e.code)) {
        permanent = e;
        setState('failed', e.toInfo());
        current = undefined;
        settleWaiters();
        return;
      }
      if (running) streamSaid ??= e;
      if (current?.pod === pod || current === undefined) reconnect(e);
    },
    stop() {
      abort.abort();
      current = undefined;
      setState('disconnected');
      settleWaiters();
    },
  };
}

/** The first answer did not come in time: the last reason, and what to check. */
function noFirstAnswer(err: RayConnectError, ms: number, pod: string | undefined): RayConnectError {
  const where = pod ? `head pod ${pod}` : 'the head pod';
  return new RayConnectError(
    err.code,
    `No answer from the Ray dashboard within ${ms / 1000} s: ${err.message}`,
    {
      fix:
        err.fix ??
        `Check that Ray's dashboard runs in ${where} (kubectl logs ${pod ?? '<head pod>'}; nothing listening on the dashboard port means Ray did not start or uses another port)`,
      ...(err.details !== undefined && { details: err.details }),
      cause: err,
    },
  );
}
