import { describe, expect, it } from 'vitest';
import { RayConnectError } from '../errors.js';
import { FakeClock } from '../ports/Clock.js';
import { silentLogger } from '../ports/Logger.js';
import { type HeadState, superviseHead } from './superviseHead.js';

function setup(
  resolve: () => Promise<{ pod: string; uid?: string }>,
  probe: () => Promise<void> = async () => undefined,
) {
  const states: HeadState[] = [];
  const supervisor = superviseHead({
    resolve,
    probe,
    onState: (s) => states.push(s),
    clock: new FakeClock(),
    logger: silentLogger,
    watchIntervalMs: 0,
    backoff: { initialMs: 1, maxMs: 4, attempts: 5 },
  });
  return { supervisor, states };
}

describe('superviseHead', () => {
  it('connecting -> ready, and target() gives the pod', async () => {
    const { supervisor, states } = setup(async () => ({ pod: 'head-1' }));
    await supervisor.started;
    expect(states).toEqual(['ready']);
    expect(await supervisor.target()).toBe('head-1');
  });

  it('retries transient failures with backoff, then ready', async () => {
    let n = 0;
    const { supervisor, states } = setup(async () => {
      if (++n < 3) throw new RayConnectError('RAYCLUSTER_NOT_READY', 'starting');
      return { pod: 'head-1' };
    });
    await supervisor.started;
    expect(n).toBe(3);
    expect(states.at(-1)).toBe('ready');
  });

  it('a stream refused for good during the probe (no pods/portforward) fails at once, not after retries', async () => {
    let probes = 0;
    const held: { supervisor?: ReturnType<typeof superviseHead> } = {};
    const s = setup(
      async () => ({ pod: 'head-1' }),
      async () => {
        probes += 1;
        // what forwardPort does: the stream's 403 is reported, then the probe's request fails
        supervisor?.reportBroken(
          'head-1',
          new RayConnectError('ACCESS_DENIED', 'cannot create pods/portforward'),
        );
        throw new RayConnectError(
          'RAY_UNREACHABLE',
          'The Ray dashboard did not answer through the port-forward',
        );
      },
    );
    held.supervisor = s.supervisor;
    const { supervisor } = s;
    await supervisor.started;
    expect(probes).toBe(1);
    expect(supervisor.state).toBe('failed');
    expect(supervisor.error?.code).toBe('ACCESS_DENIED');
  });

  it('fails for good on permanent errors, and target() rejects with why', async () => {
    const { supervisor, states } = setup(async () => {
      throw new RayConnectError('ACCESS_DENIED', 'no pods for you');
    });
    await supervisor.started;
    expect(states).toEqual(['failed']);
    expect(supervisor.error?.code).toBe('ACCESS_DENIED');
    await expect(supervisor.target()).rejects.toMatchObject({ code: 'ACCESS_DENIED' });
  });

  it('gives up after the attempts are spent', async () => {
    const { supervisor } = setup(async () => {
      throw new RayConnectError('RAYCLUSTER_NOT_READY', 'never');
    });
    await supervisor.started;
    expect(supervisor.state).toBe('failed');
    expect(supervisor.error?.message).toMatch(/never/);
  });

  it('a broken stream re-resolves: reconnecting -> ready on the new pod', async () => {
    let pod = 'head-1';
    const { supervisor, states } = setup(async () => ({ pod }));
    await supervisor.started;
    pod = 'head-2';
    supervisor.reportBroken('head-1', new RayConnectError('PORT_FORWARD_FAILED', 'pod gone'));
    expect(await supervisor.target()).toBe('head-2');
    await expect.poll(() => states.at(-1)).toBe('ready');
    expect(states).toContain('reconnecting');
  });

  it('stop: disconnected, and target() rejects', async () => {
    const { supervisor, states } = setup(async () => ({ pod: 'head-1' }));
    await supervisor.started;
    supervisor.stop();
    expect(states.at(-1)).toBe('disconnected');
    await expect(supervisor.target()).rejects.toBeInstanceOf(RayConnectError);
  });

  it('nothing answers through the forward: failed after the first-answer deadline, with the kubelet reason and a fix', async () => {
    const clock = new FakeClock();
    let probes = 0;
    const states: HeadState[] = [];
    const errors: (string | undefined)[] = [];
    const hangUp = new RayConnectError(
      'RAY_UNREACHABLE',
      'The Ray dashboard did not answer through the port-forward: socket hang up',
    );
    const supervisor = superviseHead({
      resolve: async () => ({ pod: 'head-1' }),
      probe: async () => {
        probes++;
        // What forwardPort reports from the error channel before the local socket closes.
        supervisor.reportBroken(
          'head-1',
          new RayConnectError(
            'PORT_FORWARD_FAILED',
            'Port-forward to pod ray-demo/head-1 port 8265 failed: no forward found for port 8265 in pod head-1',
          ),
        );
        throw hangUp;
      },
      onState: (s, e) => {
        states.push(s);
        errors.push(e?.message);
      },
      clock,
      logger: silentLogger,
      watchIntervalMs: 0,
      backoff: { initialMs: 500, maxMs: 15_000, attempts: 40 },
    });
    await supervisor.started;
    expect(supervisor.state).toBe('failed');
    expect(probes).toBeLessThan(10); // 40 attempts at up to 15 s each were ~9 minutes
    expect(supervisor.error?.message).toMatch(
      /^No answer from the Ray dashboard within 30 s: .*no forward found for port 8265 in pod head-1/,
    );
    expect(supervisor.error?.fix).toMatch(/kubectl logs head-1/);
    expect(errors.at(-1)).toBe(supervisor.error?.message);
  });

  it('the first-answer deadline is configurable and does not apply once the head has answered', async () => {
    const clock = new FakeClock();
    let fail = false;
    let probes = 0;
    const supervisor = superviseHead({
      resolve: async () => ({ pod: 'head-1' }),
      probe: async () => {
        probes++;
        if (fail && probes < 8) throw new RayConnectError('RAY_UNREACHABLE', 'socket hang up');
      },
      onState: () => undefined,
      clock,
      logger: silentLogger,
      watchIntervalMs: 0,
      firstAnswerMs: 1000,
      backoff: { initialMs: 500, maxMs: 15_000, attempts: 40 },
    });
    await supervisor.started;
    expect(supervisor.state).toBe('ready');
    fail = true;
    supervisor.reportBroken('head-1', new RayConnectError('PORT_FORWARD_FAILED', 'stream broke'));
    await expect.poll(() => probes).toBe(8);
    await expect.poll(() => supervisor.state).toBe('ready');
  });
});
