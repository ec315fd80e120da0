import { describe, expect, it } from 'vitest';
import { FakeClock } from '../ports/Clock.js';
import { silentLogger } from '../ports/Logger.js';
import { Secret } from '../secret.js';
import { FakeKubeClient } from './fakeKubeClient.js';
import { keepTokenFresh } from './keepTokenFresh.js';
import type { RayToken } from './getRayToken.js';

describe('keepTokenFresh (RBAC mode)', () => {
  it('asks for the token before expiry and reports each new one', async () => {
    const clock = new FakeClock(0);
    const kube = new FakeKubeClient();
    const issued = [
      { token: new Secret('t2'), expiresAt: 20 * 60_000 },
      { token: new Secret('t2'), expiresAt: 20 * 60_000 },
      { token: new Secret('t3'), expiresAt: 30 * 60_000 },
    ];
    const asked: number[] = [];
    kube.bearerToken = async () => {
      asked.push(clock.now());
      return issued.shift();
    };
    const seen: RayToken[] = [];
    const abort = new AbortController();
    await keepTokenFresh(
      { token: new Secret('t1'), expiresAt: 10 * 60_000 },
      {
        kube,
        clock,
        logger: silentLogger,
        onToken: (t) => {
          seen.push(t);
          if (seen.length === 2) abort.abort();
        },
      },
      abort.signal,
    );
    expect(seen.map((t) => t.token.reveal())).toEqual(['t2', 't3']);
    expect(asked[0]).toBe(8 * 60_000); // two minutes before the first expiry
    expect(asked.every((t, i) => i === 0 || t > (asked[i - 1] ?? 0))).toBe(true);
  });
});
