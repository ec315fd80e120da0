// Sign-in and refresh under faults, as alice through the sandbox's real OIDC provider (device flow approved on its
// pages): the provider unreachable or slow (an HTTP CONNECT proxy named by HTTPS_PROXY that we stop or slow down;
// the provider itself keeps running and keeps its issuer URL), the API server away (the world's TCP proxy), the
// refresh token revoked at the provider's revocation endpoint, and the id_token expiring under an open stream.
// Time: a Clock we move relative to the id_token's real `exp` (the provider and API server keep real time).
import { request } from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RayConnectEvent } from '@ray-connect/shared';
import {
  type Clock,
  createRayConnect,
  FakeBrowser,
  MemoryLogger,
  MemorySecretStore,
  type RayConnect,
  systemClock,
} from '../../../packages/core/src/index.js';
import { approveDevice, kubectl } from '../../sandbox/client.mjs';
import { sandbox, tempDir, writeJson } from '../helpers.js';
import { ConnectProxy, createWorld, get, waitFor, type World } from '../world.js';

const s = sandbox();
let world: World;
let idp: ConnectProxy;
let api: RayConnect;
let clusterId = '';
const store = new MemorySecretStore();
const logger = new MemoryLogger();
const events: RayConnectEvent[] = [];
/** When set, our clock says this time (plus the real time elapsed since it was set). */
let shift = 0;
const clock: Clock = { now: () => systemClock.now() + shift, sleep: (ms, sig) => systemClock.sleep(ms, sig) };
const savedEnv = { HTTPS_PROXY: process.env.HTTPS_PROXY, NO_PROXY: process.env.NO_PROXY };

/** Our clock at `at` (epoch ms) from now on. */
const setNow = (at: number) => (shift = at - systemClock.now());
const secretsNow = async () => {
  const out: Record<string, string> = {};
  for (const k of await store.keys('')) out[k] = (await store.get(k))!.reveal();
  return out;
};
const refreshTokenNow = async () => Object.entries(await secretsNow()).find(([k]) => /refresh/i.test(k))?.[1];
const idTokenExp = async () => (await api.listClusters()).find((c) => c.id === clusterId)!.signIn.expiresAt!;
const signIn = async () => (await api.listClusters()).find((c) => c.id === clusterId)!.signIn;

/** Lists RayClusters in our namespace: 'ok' or the error code the user sees. */
async function listing(): Promise<string> {
  let error: { code?: string; message?: string } | undefined;
  try {
    const l = await api.listRayClusters(clusterId);
    if (!l.errors.length) return l.items.length === 1 ? 'ok' : `items:${l.items.length}`;
    error = l.errors[0]!.error;
  } catch (e) {
    error = e as { code?: string; message?: string };
  }
  console.log(`listing: ${error.code}: ${error.message}`); // shown with a failure, to tell outages apart
  return error.code ?? String(error);
}

async function deviceSignIn(): Promise<string> {
  const p = await api.beginSignIn(clusterId, { method: 'device' });
  if (p.kind !== 'device') throw new Error(`expected a device flow, got ${p.kind}`);
  await approveDevice({ userCode: p.userCode, user: 'alice' });
  const state = await api.completeSignIn(p.loginId);
  return state.status;
}

/** RFC 7009 revocation at the provider, as the user revoking the app (or an admin) would. */
function revoke(token: string): Promise<number> {
  const body = new URLSearchParams({
    token,
    token_type_hint: 'refresh_token',
    client_id: s.oidc.clientId,
  }).toString();
  return new Promise((resolve, reject) => {
    const req = request(
      `${s.oidc.issuer}/token/revocation`,
      {
        method: 'POST',
        ca: readFileSync(s.oidc.caFile),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

beforeAll(async () => {
  world = await createWorld();
  // alice (group oidc:ray-users) may list, read and port-forward in our namespace
  const ns = world.namespace;
  const r = await kubectl(['apply', '-f', '-'], {
    input: JSON.stringify({
      apiVersion: 'v1',
      kind: 'List',
      items: [
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'Role',
          metadata: { name: 'ray-user', namespace: ns },
          rules: [
            { apiGroups: ['ray.io'], resources: ['rayclusters'], verbs: ['get', 'list', 'watch'] },
            { apiGroups: [''], resources: ['pods', 'services', 'secrets'], verbs: ['get', 'list', 'watch'] },
            { apiGroups: [''], resources: ['pods/portforward'], verbs: ['get', 'create'] },
          ],
        },
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'RoleBinding',
          metadata: { name: 'ray-user', namespace: ns },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'ray-user' },
          subjects: [{ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'oidc:ray-users' }],
        },
      ],
    }),
  });
  if (r.code !== 0) throw new Error(r.stderr);
  idp = new ConnectProxy();
  await idp.start();
  process.env.HTTPS_PROXY = idp.url; // the core's IdP client honours HTTPS_PROXY (the kube client uses deps.env)
  delete process.env.NO_PROXY;
  const home = tempDir('rc-faults-auth-');
  const kubeconfig = writeJson(join(home, 'config'), {
    apiVersion: 'v1',
    kind: 'Config',
    'current-context': 'f',
    clusters: [
      {
        name: 'sandbox',
        cluster: { server: `https://127.0.0.1:${world.proxy.port}`, 'certificate-authority': s.caFile },
      },
    ],
    users: [{ name: 'nobody', user: {} }],
    contexts: [{ name: 'f', context: { cluster: 'sandbox', user: 'nobody', namespace: ns } }],
  });
  api = createRayConnect({
    store,
    logger,
    clock,
    browser: new FakeBrowser(),
    configDir: tempDir('rc-faults-auth-cfg-'),
    homedir: home,
    env: { KUBECONFIG: kubeconfig },
    oidc: { issuer: s.oidc.issuer, clientId: s.oidc.clientId, caFile: s.oidc.caFile },
    version: 'faults',
    watchIntervalMs: 500,
  });
  api.onEvent((e) => events.push(e));
  clusterId = (await api.listClusters())[0]!.id;
}, 120_000);

afterAll(async () => {
  process.env.HTTPS_PROXY = savedEnv.HTTPS_PROXY;
  if (savedEnv.HTTPS_PROXY === undefined) delete process.env.HTTPS_PROXY;
  if (savedEnv.NO_PROXY !== undefined) process.env.NO_PROXY = savedEnv.NO_PROXY;
  await api?.close();
  await idp?.stop();
  await world?.dispose();
});

describe('identity provider away during a device sign-in', () => {
  it('unreachable when the sign-in starts -> IDP_UNREACHABLE naming the issuer, with a fix; nothing stored', async () => {
    await idp.stop();
    try {
      const e = await api.beginSignIn(clusterId, { method: 'device' }).then(
        (p) => ({ code: `started:${p.kind}`, message: '', fix: '' }),
        (x: { code: string; message: string; fix?: string }) => x,
      );
      expect(e.code).toBe('IDP_UNREACHABLE');
      expect(e.message).toContain(s.oidc.issuer);
      expect(e.fix).toMatch(/HTTPS_PROXY|network/);
    } finally {
      await idp.start();
    }
    expect(await store.keys('')).toEqual([]);
    expect((await signIn()).status).toBe('signed-out');
  });

  it('goes away while the user approves the code (polls fail) and comes back -> the same sign-in completes', async () => {
    const p = await api.beginSignIn(clusterId, { method: 'device' });
    if (p.kind !== 'device') throw new Error(p.kind);
    const done = api.completeSignIn(p.loginId).then(
      (st) => st.status,
      (e: { code?: string }) => e.code,
    );
    await idp.stop();
    const tunnels = idp.tunnels;
    try {
      await approveDevice({ userCode: p.userCode, user: 'alice' }); // the user's browser still reaches it
      // at least one poll runs into the outage (the provider's interval is 5 s)
      await new Promise((r) => setTimeout(r, (p.intervalSeconds + 2) * 1000));
    } finally {
      await idp.start();
    }
    expect(await done).toBe('signed-in');
    expect(idp.tunnels).toBeGreaterThan(tunnels);
    expect((await signIn()).identity?.username).toBe('oidc:alice');
    expect(await listing()).toBe('ok');
  });
});

describe('refresh under faults (signed in as alice)', () => {
  afterAll(() => {
    shift = 0;
    idp.delayMs = 0;
  });

  it('provider down, token still valid (near expiry) -> the current token is used, the session is kept as is', async () => {
    const before = await secretsNow();
    setNow((await idTokenExp()) - 30_000);
    await idp.stop();
    try {
      expect(await listing()).toBe('ok');
      expect(await secretsNow()).toEqual(before);
      expect((await signIn()).status).toBe('signed-in');
      expect(logger.lines.some((l) => /Could not refresh the sign-in yet/.test(l.message))).toBe(true);
    } finally {
      await idp.start();
    }
  });

  it('provider down and the token expired -> IDP_UNREACHABLE (not "sign in again"), session kept; provider back -> refreshes by itself', async () => {
    const before = await secretsNow();
    const exp = await idTokenExp();
    // The refreshed id_token must outlive our shifted clock: its exp (whole seconds) is the refresh time + the
    // provider's TTL, so let a few real seconds pass since this token was issued.
    const issued = exp - s.oidc.tokenTtlSeconds * 1000;
    await new Promise((r) => setTimeout(r, Math.max(0, issued + 3_000 - Date.now())));
    setNow(exp + 1_000);
    await idp.stop();
    try {
      expect(await listing()).toBe('IDP_UNREACHABLE');
      expect(await listing()).toBe('IDP_UNREACHABLE');
      expect(await secretsNow(), 'nothing dropped').toEqual(before);
      const state = await signIn();
      expect(state.error?.code).not.toBe('REFRESH_FAILED');
    } finally {
      await idp.start();
    }
    expect(await listing()).toBe('ok');
    expect(await refreshTokenNow(), 'the refresh token rotated').not.toBe(
      Object.entries(before).find(([k]) => /refresh/i.test(k))?.[1],
    );
    expect(await idTokenExp()).toBeGreaterThan(exp);
  });

  it('a slow provider (every answer held back 0.5 s per chunk) -> the refresh still completes', async () => {
    const rt = await refreshTokenNow();
    setNow((await idTokenExp()) - 30_000);
    idp.delayMs = 500;
    try {
      expect(await listing()).toBe('ok');
    } finally {
      idp.delayMs = 0;
    }
    expect(await refreshTokenNow()).not.toBe(rt);
  });

  it('API server down during the refresh -> CLUSTER_UNREACHABLE, but the rotated refresh token is kept: after restart it works and refreshes again', async () => {
    const rt = await refreshTokenNow();
    setNow((await idTokenExp()) - 30_000);
    await world.proxy.stop();
    try {
      expect(await listing()).toBe('CLUSTER_UNREACHABLE');
    } finally {
      await world.proxy.start();
    }
    const rotated = await refreshTokenNow();
    expect(rotated, 'the refresh happened and was stored before the API call failed').not.toBe(rt);
    expect(await listing()).toBe('ok');
    // the stored (rotated) refresh token is the live one: the next refresh succeeds
    setNow((await idTokenExp()) - 30_000);
    expect(await listing()).toBe('ok');
    expect(await refreshTokenNow()).not.toBe(rotated);
    shift = 0;
  });
});

describe('API server away during a device sign-in', () => {
  it('down when the new token is checked -> CLUSTER_UNREACHABLE; the existing sign-in is kept; after restart a new sign-in works', async () => {
    const before = await secretsNow();
    const p = await api.beginSignIn(clusterId, { method: 'device' });
    if (p.kind !== 'device') throw new Error(p.kind);
    await world.proxy.stop();
    let outcome: { code?: string; message?: string } = {};
    try {
      await approveDevice({ userCode: p.userCode, user: 'alice' });
      outcome = await api.completeSignIn(p.loginId).then(
        (st) => ({ code: `signed:${st.status}` }),
        (e: { code?: string; message?: string }) => e,
      );
    } finally {
      await world.proxy.start();
    }
    expect(outcome.code).toBe('CLUSTER_UNREACHABLE');
    expect(outcome.message).toContain(`127.0.0.1:${world.proxy.port}`);
    expect(await secretsNow(), 'the earlier sign-in is untouched').toEqual(before);
    expect(await listing()).toBe('ok');
    expect(await deviceSignIn()).toBe('signed-in');
    expect(await listing()).toBe('ok');
  });
});

describe('id_token expiring under an open stream through the forward', () => {
  it('a long stream keeps flowing across the refresh; the connection stays ready and new requests use the new token', async () => {
    const ref = { clusterId, namespace: world.namespace, name: world.cluster };
    const c = await api.connect(ref);
    expect(c.state).toBe('ready');
    const controller = new AbortController();
    const guard = setTimeout(() => controller.abort(), 90_000);
    try {
      const res = await fetch(`${c.dashboardUrl}/slow`, { signal: controller.signal });
      const reader = res.body!.getReader();
      let got = 0;
      while (got < 32 * 1024) got += (await reader.read()).value?.byteLength ?? 0;
      const rt = await refreshTokenNow();
      setNow((await idTokenExp()) - 30_000); // the pod checks (every 500 ms) refresh the sign-in
      await waitFor(async () => (await refreshTokenNow()) !== rt, 30_000, 'a refresh');
      const mark = got;
      while (got < mark + 64 * 1024) got += (await reader.read()).value?.byteLength ?? 0;
      await reader.cancel();
      expect((await api.listConnections())[0]?.state).toBe('ready');
      expect(await get(`${c.dashboardUrl}/bytes?n=50000`)).toEqual({ status: 200, length: 50000 });
    } finally {
      clearTimeout(guard);
      shift = 0;
      await api.disconnect(ref);
    }
  });
});

describe('refresh token revoked at the provider', () => {
  it('-> the current token is used until it expires, then one REFRESH_FAILED "sign in again" state; no retry loop; signing in again works', async () => {
    const rt = (await refreshTokenNow())!;
    expect(await revoke(rt)).toBe(200);
    const exp = await idTokenExp();
    setNow(exp - 30_000);
    expect(await listing(), 'still valid: keeps working').toBe('ok');
    expect(await refreshTokenNow(), 'the dead refresh token is dropped').toBeUndefined();
    setNow(exp + 1_000);
    const eventsBefore = events.length;
    const errors: { code: string; message: string; fix?: string }[] = [];
    const tunnels = idp.tunnels;
    for (let i = 0; i < 3; i++) {
      await api.listRayClusters(clusterId).then(
        (l) => l.errors.forEach((e) => errors.push(e.error)),
        (e: { code: string; message: string; fix?: string }) => errors.push(e),
      );
    }
    expect(errors.map((e) => e.code)).toEqual(['REFRESH_FAILED', 'REFRESH_FAILED', 'REFRESH_FAILED']);
    expect(errors[0]!.message).toMatch(/Sign in again/i);
    expect(idp.tunnels, 'the provider was not asked again').toBe(tunnels);
    const state = await signIn();
    expect(state.status).toBe('expired');
    expect(state.error).toMatchObject({ code: 'REFRESH_FAILED', fix: 'Sign in again.' });
    expect(state.identity?.username, 'the session is kept (marked), not dropped').toBe('oidc:alice');
    expect(
      events.slice(eventsBefore).some((e) => e.type === 'sign-in-changed' && e.state.status === 'expired'),
      'the host is told',
    ).toBe(true);
    shift = 0;
    expect(await deviceSignIn()).toBe('signed-in');
    expect((await signIn()).error).toBeUndefined();
    expect(await listing()).toBe('ok');
  });
});
