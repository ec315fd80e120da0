import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../ports/Clock.js';
import { MemorySecretStore } from '../ports/SecretStore.js';
import type { SignInDeps } from './deps.js';
import { startDeviceSignIn } from './deviceSignIn.js';
import { SessionStore } from './sessionStore.js';
import { FakeIdp } from './testing/fakeIdp.js';

/** A FakeClock that records how long each sleep asked for. */
class RecordingClock extends FakeClock {
  readonly sleeps: number[] = [];
  override async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.sleeps.push(ms);
    await super.sleep(ms, signal);
  }
}

describe('startDeviceSignIn', () => {
  let idp: FakeIdp;
  let store: MemorySecretStore;
  let clock: RecordingClock;
  let deps: SignInDeps;
  const verified: string[] = [];

  beforeEach(async () => {
    idp = await new FakeIdp({ interval: 2 }).start();
    store = new MemorySecretStore();
    clock = new RecordingClock(Date.now());
    deps = {
      store,
      clock,
      verifyIdentity: async (source) => {
        const credential = await source.get();
        verified.push(credential.token?.reveal() ?? '');
        return { username: 'oidc:alice', groups: ['oidc:devs', 'system:authenticated'] };
      },
    };
  });
  afterEach(() => idp.stop());

  const input = () => ({
    clusterId: 'url:https://k8s.example:6443',
    issuer: idp.issuer,
    clientId: idp.clientId,
    allowInsecureRequests: true,
  });

  it('shows the code, polls until approved, checks the identity and stores the session', async () => {
    idp.devicePlan = ['pending', 'pending'];
    idp.deviceState = 'approved';
    const flow = await startDeviceSignIn(input(), deps);
    expect(flow.userCode).toBe('ABCD-EFGH');
    expect(flow.verificationUri).toBe(`${idp.issuer}/device/verify`);
    expect(flow.verificationUriComplete).toContain('user_code=ABCD-EFGH');
    expect(flow.interval).toBe(2);
    const session = await flow.done;
    expect(session.info).toMatchObject({
      method: 'device',
      issuer: idp.issuer,
      clientId: 'kubernetes',
      refreshable: true,
    });
    expect(session.info.identity?.username).toBe('oidc:alice');
    expect(session.info.expiresAt).toBeGreaterThan(Date.now());
    expect(clock.sleeps).toEqual([2000, 2000, 2000]);
    expect(verified[0]).toBe(session.token.reveal());
    const loaded = await new SessionStore(store).load('url:https://k8s.example:6443');
    expect(loaded?.token.equals(session.token)).toBe(true);
    expect(loaded?.refreshToken).toBeDefined();
    expect(JSON.stringify(loaded)).not.toContain(session.token.reveal());
  });

  it('waits 5 s more after each slow_down', async () => {
    idp.devicePlan = ['slow_down', 'pending', 'slow_down'];
    idp.deviceState = 'approved';
    await (
      await startDeviceSignIn(input(), deps)
    ).done;
    expect(clock.sleeps).toEqual([2000, 7000, 7000, 12000]);
  });

  it('uses 5 s when the provider announces no interval', async () => {
    await idp.stop();
    idp = await new FakeIdp({ interval: undefined }).start();
    idp.deviceState = 'approved';
    const flow = await startDeviceSignIn(input(), deps);
    expect(flow.interval).toBe(5);
    await flow.done;
    expect(clock.sleeps).toEqual([5000]);
  });

  it('treats a provider\'s `interval: 0` as absent: 5 s, not "invalid response encountered"', async () => {
    await idp.stop();
    idp = await new FakeIdp({ interval: 0 }).start();
    idp.deviceState = 'approved';
    const flow = await startDeviceSignIn(input(), deps);
    expect(flow.interval).toBe(5);
    await flow.done;
    expect(clock.sleeps).toEqual([5000]);
  });

  it('keeps polling through an unreachable provider (a network blip while the user approves), then signs in', async () => {
    idp.devicePlan = ['pending'];
    idp.deviceState = 'approved';
    let failures = 2;
    const flaky: typeof fetch = (url, options) => {
      if (String(url).endsWith('/token') && failures-- > 0)
        return Promise.reject(
          new TypeError('fetch failed', {
            cause: Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }),
          }),
        );
      return fetch(url, options);
    };
    const session = await (await startDeviceSignIn({ ...input(), fetch: flaky }, deps)).done;
    expect(session.info.identity?.username).toBe('oidc:alice');
    expect(clock.sleeps).toEqual([2000, 2000, 2000, 2000]);
  });

  it('an unreachable provider until the code runs out -> IDP_UNREACHABLE naming the issuer, not a bare expiry', async () => {
    const down: typeof fetch = (url, options) =>
      String(url).endsWith('/token')
        ? Promise.reject(
            new TypeError('fetch failed', { cause: Object.assign(new Error('x'), { code: 'ECONNRESET' }) }),
          )
        : fetch(url, options);
    const flow = await startDeviceSignIn({ ...input(), fetch: down }, deps);
    await expect(flow.done).rejects.toMatchObject({
      code: 'IDP_UNREACHABLE',
      message: expect.stringContaining(idp.issuer),
    });
    expect(await store.keys('')).toEqual([]);
  });

  it('reports DEVICE_CODE_EXPIRED when the provider says expired_token', async () => {
    idp.deviceState = 'expired';
    await expect((await startDeviceSignIn(input(), deps)).done).rejects.toMatchObject({
      code: 'DEVICE_CODE_EXPIRED',
    });
  });

  it('reports DEVICE_CODE_EXPIRED when the code runs out while pending', async () => {
    await idp.stop();
    idp = await new FakeIdp({ interval: 5, deviceExpiresIn: 12 }).start();
    const flow = await startDeviceSignIn(input(), deps);
    await expect(flow.done).rejects.toMatchObject({ code: 'DEVICE_CODE_EXPIRED' });
    expect(idp.grants('/token')).toBe(2);
  });

  it('reports LOGIN_CANCELLED when the user denies', async () => {
    idp.deviceState = 'denied';
    await expect((await startDeviceSignIn(input(), deps)).done).rejects.toMatchObject({
      code: 'LOGIN_CANCELLED',
    });
  });

  it('stops polling when cancelled', async () => {
    const realClock = {
      now: () => Date.now(),
      sleep: (ms: number, signal?: AbortSignal) =>
        new Promise<void>((r, j) => {
          const t = setTimeout(r, ms);
          signal?.addEventListener('abort', () => {
            clearTimeout(t);
            j(signal.reason);
          });
        }),
    };
    const flow = await startDeviceSignIn(input(), { ...deps, clock: realClock });
    flow.cancel();
    await expect(flow.done).rejects.toMatchObject({ code: 'LOGIN_CANCELLED' });
    expect(idp.grants('/token')).toBe(0);
    expect(await store.keys('')).toEqual([]);
  });

  it('fails with the API server error when the cluster rejects the token, and stores nothing', async () => {
    idp.deviceState = 'approved';
    const { RayConnectError } = await import('../errors.js');
    deps.verifyIdentity = async () => {
      throw new RayConnectError('TOKEN_INVALID', 'The API server rejected the token (401).');
    };
    await expect((await startDeviceSignIn(input(), deps)).done).rejects.toMatchObject({
      code: 'TOKEN_INVALID',
    });
    expect(await store.keys('')).toEqual([]);
  });

  it('maps an unreachable issuer to IDP_UNREACHABLE naming the issuer', async () => {
    const issuer = idp.issuer;
    await idp.stop();
    const error = await startDeviceSignIn({ ...input(), issuer }, deps).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'IDP_UNREACHABLE' });
    expect((error as Error).message).toContain(issuer);
    idp = await new FakeIdp().start();
  });
});

describe('startDeviceSignIn with an AbortSignal', () => {
  it('aborting the signal cancels it', async () => {
    const idp = await new FakeIdp({ interval: 1 }).start();
    try {
      const controller = new AbortController();
      const slowClock = {
        now: () => Date.now(),
        sleep: (ms: number, signal?: AbortSignal) =>
          new Promise<void>((resolve, reject) => {
            const t = setTimeout(resolve, ms);
            signal?.addEventListener('abort', () => {
              clearTimeout(t);
              reject(signal.reason);
            });
          }),
      };
      const flow = await startDeviceSignIn(
        {
          clusterId: 'c',
          issuer: idp.issuer,
          clientId: idp.clientId,
          allowInsecureRequests: true,
          signal: controller.signal,
        },
        { store: new MemorySecretStore(), clock: slowClock },
      );
      controller.abort();
      await expect(flow.done).rejects.toMatchObject({ code: 'LOGIN_CANCELLED' });
    } finally {
      await idp.stop();
    }
  });
});
