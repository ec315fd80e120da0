import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RayConnectEvent } from '@ray-connect/shared';
import { beforeEach, describe, expect, it } from 'vitest';
import type { KubeFetch } from '../kube/createKubeClient.js';
import { FakeBrowser } from '../ports/Browser.js';
import { FakeClock } from '../ports/Clock.js';
import { silentLogger } from '../ports/Logger.js';
import { MemorySecretStore } from '../ports/SecretStore.js';
import { SessionStore } from '../auth/sessionStore.js';
import { Secret } from '../secret.js';
import { createRayConnect, type RayConnect } from './createRayConnect.js';

const SERVER = 'https://kube.example.test:6443';
const fixture = (f: string) =>
  JSON.parse(readFileSync(join(import.meta.dirname, '../../testdata/rayclusters', f), 'utf8')) as unknown;

/** A fake API server behind the KubeFetch seam: who is asking (by bearer token) and what they may see. */
function fakeApiServer(seen: { url: string; auth?: string }[]): KubeFetch {
  return async (url, init) => {
    seen.push({ url, ...(init.headers.Authorization !== undefined && { auth: init.headers.Authorization }) });
    const path = new URL(url).pathname;
    const reply = (status: number, body: unknown) => ({ status, text: async () => JSON.stringify(body) });
    const auth = init.headers.Authorization;
    if (auth !== 'Bearer kubeconfig-token' && auth !== 'Bearer pasted-token')
      return reply(401, { kind: 'Status', message: 'Unauthorized' });
    const user = auth === 'Bearer pasted-token' ? 'pasted-user' : 'kube-user';
    if (path === '/apis/authentication.k8s.io/v1/selfsubjectreviews')
      return reply(201, { status: { userInfo: { username: user, groups: ['g'] } } });
    if (path === '/apis/ray.io/v1/namespaces/team/rayclusters')
      return reply(200, { items: [fixture('token-generated.json'), fixture('noauth.json')] });
    return reply(404, { kind: 'Status', message: 'not found' });
  };
}

describe('createRayConnect (fakes)', () => {
  let api: RayConnect;
  let store: MemorySecretStore;
  let configDir: string;
  let events: RayConnectEvent[];
  let seen: { url: string; auth?: string }[];

  beforeEach(() => {
    const dir = mkdtempSync(join(tmpdir(), 'rc-app-'));
    const kubeconfig = join(dir, 'config');
    writeFileSync(
      kubeconfig,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        'current-context': 'dev',
        clusters: [{ name: 'c', cluster: { server: SERVER, 'insecure-skip-tls-verify': true } }],
        users: [
          { name: 'u', user: { token: 'kubeconfig-token' } },
          { name: 'nobody', user: {} },
        ],
        contexts: [
          { name: 'dev', context: { cluster: 'c', user: 'u', namespace: 'team' } },
          { name: 'bare', context: { cluster: 'c', user: 'nobody', namespace: 'team' } },
        ],
      }),
    );
    store = new MemorySecretStore();
    configDir = join(dir, 'state');
    events = [];
    seen = [];
    api = createRayConnect({
      store,
      logger: silentLogger,
      clock: new FakeClock(),
      browser: new FakeBrowser(),
      configDir,
      env: { KUBECONFIG: kubeconfig },
      homedir: dir,
      version: '9.9.9',
      fetch: fakeApiServer(seen),
    });
    api.onEvent((e) => events.push(e));
  });

  it('version and clusters from the kubeconfig, with sign-in state and storage', async () => {
    expect(await api.version()).toEqual({ version: '9.9.9', protocol: 1 });
    const clusters = await api.listClusters();
    expect(clusters.map((c) => [c.id, c.current, c.namespace, c.signIn.status, c.signIn.method])).toEqual([
      ['context:dev', true, 'team', 'signed-in', 'kubeconfig'],
      ['context:bare', false, 'team', 'signed-out', undefined],
    ]);
    expect(clusters[0]?.storage).toEqual({ kind: 'memory', label: 'memory only' });
  });

  it('kubeconfig sign-in checks who you are; Ray clusters come from the chosen namespaces', async () => {
    const progress = await api.beginSignIn('context:dev', { method: 'kubeconfig' });
    expect(progress).toMatchObject({
      kind: 'done',
      state: { status: 'signed-in', method: 'kubeconfig', identity: { username: 'kube-user' } },
    });
    const list = await api.listRayClusters('context:dev');
    expect(list.searched).toEqual(['team']);
    expect(list.items.map((i) => [i.name, i.authMode])).toEqual([
      ['raycluster-noauth', 'none'],
      ['raycluster-token', 'token'],
    ]);
    expect(events.some((e) => e.type === 'sign-in-changed')).toBe(true);
  });

  it('token sign-in stores a session used for requests; sign-out says what it removed', async () => {
    await expect(api.listRayClusters('context:bare')).rejects.toMatchObject({ code: 'SIGNED_OUT' });
    const progress = await api.beginSignIn('context:bare', { method: 'token', token: 'pasted-token' });
    expect(progress).toMatchObject({
      kind: 'done',
      state: { status: 'signed-in', method: 'token', identity: { username: 'pasted-user' } },
    });
    await api.listRayClusters('context:bare');
    expect(seen.at(-1)?.auth).toBe('Bearer pasted-token');
    const out = await api.signOut('context:bare');
    expect(out.removed.join('\n')).toMatch(/Kubernetes token \(memory only\)/);
    expect((await api.listClusters()).find((c) => c.id === 'context:bare')?.signIn.status).toBe('signed-out');
    expect(await store.keys('')).toEqual([]);
  });

  it('a stored sign-in that ends while in use (expired, no refresh) is announced once as sign-in-changed "expired"', async () => {
    const clusterId = 'context:bare';
    await new SessionStore(store).save({
      info: { clusterId, method: 'token', signedInAt: 0, refreshable: false, expiresAt: 1 },
      token: new Secret('pasted-token'),
    });
    const errors: string[] = [];
    for (let i = 0; i < 3; i++)
      await api.listRayClusters(clusterId).then(
        (l) => l.errors.forEach((e) => errors.push(e.error.code)),
        (e: { code: string }) => errors.push(e.code),
      );
    expect(errors).toEqual(['TOKEN_EXPIRED', 'TOKEN_EXPIRED', 'TOKEN_EXPIRED']);
    await new Promise((r) => setTimeout(r, 50));
    const changed = events.filter((e) => e.type === 'sign-in-changed');
    expect(changed).toHaveLength(1);
    expect(changed[0]).toMatchObject({
      clusterId,
      state: { status: 'expired', error: { code: 'TOKEN_EXPIRED', fix: 'Sign in again.' } },
    });
    expect(seen, 'the expired token was never sent').toEqual([]);
  });

  it('namespaces are saved as non-secret state; added clusters can be removed', async () => {
    const summary = await api.setNamespaces('context:dev', ['team', 'other', 'Bad_Name']);
    expect(summary.namespaces).toEqual(['team', 'other']);
    const state = readFileSync(join(configDir, 'state.json'), 'utf8');
    expect(state).not.toMatch(/token/);
    const added = await api.addCluster({ server: 'https://api.other.test:6443', namespace: 'ml' });
    expect(added).toMatchObject({
      id: 'url:https://api.other.test:6443',
      source: 'added',
      name: 'api.other.test:6443',
      signIn: { status: 'signed-out' },
    });
    await api.removeCluster(added.id);
    expect((await api.listClusters()).map((c) => c.id)).not.toContain(added.id);
    await expect(api.removeCluster('context:dev')).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(api.addCluster({ server: 'http://plain.test' })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
  });

  it('sessionEnv without a connection says to connect first; unknown clusters are CONTEXT_NOT_FOUND', async () => {
    await expect(
      api.sessionEnv({ clusterId: 'context:dev', namespace: 'team', name: 'x' }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST', fix: expect.stringMatching(/connect/) });
    await expect(api.listRayClusters('context:nope')).rejects.toMatchObject({ code: 'CONTEXT_NOT_FOUND' });
    expect(await api.listConnections()).toEqual([]);
  });

  it('a redirect that matches no browser sign-in is LOGIN_NOT_FOUND, as is an unknown loginId', async () => {
    const callback = 'https://jupyter.test/ray-connect/oauth/callback?code=c&state=nobody-sent-this';
    const error = await api.finishBrowserSignIn(callback).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'LOGIN_NOT_FOUND', fix: expect.stringMatching(/again/) });
    expect((error as Error).message).not.toContain('nobody-sent-this');
    await expect(api.finishBrowserSignIn('?code=c')).rejects.toMatchObject({ code: 'LOGIN_NOT_FOUND' });
    await expect(api.finishBrowserSignIn(callback, 'no-such-login')).rejects.toMatchObject({
      code: 'LOGIN_NOT_FOUND',
    });
    await expect(api.completeSignIn('no-such-login')).rejects.toMatchObject({ code: 'LOGIN_NOT_FOUND' });
  });
});
