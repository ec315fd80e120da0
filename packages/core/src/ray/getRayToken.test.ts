import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FakeKubeClient } from './fakeKubeClient.js';
import { getRayToken } from './getRayToken.js';
import { parseRayCluster } from './parseRayCluster.js';

const dir = join(import.meta.dirname, '../../testdata/rayclusters');
const fixture = (file: string) => JSON.parse(readFileSync(join(dir, file), 'utf8')) as unknown;
const summary = (file: string) => parseRayCluster(fixture(file), 'context:test');
const secretPath = (name: string) => `/api/v1/namespaces/ray-demo/secrets/${name}`;
const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('getRayToken', () => {
  it('reads auth_token from the generated Secret, untouched (+ / =), trimmed like Ray', async () => {
    const kube = new FakeKubeClient().on('GET', secretPath('raycluster-token'), {
      data: { auth_token: b64('k+/y=\n') },
    });
    const t = await getRayToken(summary('token-generated.json'), kube);
    expect(t?.token.reveal()).toBe('k+/y=');
  });

  it('uses secretName, and the legacy secretKeyRef name and key', async () => {
    const kube = new FakeKubeClient()
      .on('GET', secretPath('my-ray-token'), { data: { auth_token: b64('byo') } })
      .on('GET', secretPath('legacy-token'), { data: { token: b64('legacy') } });
    expect((await getRayToken(summary('token-secretname.json'), kube))?.token.reveal()).toBe('byo');
    expect((await getRayToken(summary('legacy-secretkeyref.json'), kube))?.token.reveal()).toBe('legacy');
  });

  it('reads the head env literal from the RayCluster', async () => {
    const kube = new FakeKubeClient().on(
      'GET',
      '/apis/ray.io/v1/namespaces/ray-demo/rayclusters/raycluster-literal',
      fixture('legacy-literal.json'),
    );
    expect((await getRayToken(summary('legacy-literal.json'), kube))?.token.reveal()).toBe(
      'literal-example-not-a-secret',
    );
  });

  it('RBAC mode: the user bearer token and its expiry', async () => {
    const kube = new FakeKubeClient();
    kube.token = { token: (await import('../secret.js')).secret('user-jwt'), expiresAt: 42 };
    const t = await getRayToken(summary('rbac.json'), kube);
    expect(t?.token.reveal()).toBe('user-jwt');
    expect(t?.expiresAt).toBe(42);
  });

  it('no auth: undefined', async () => {
    expect(await getRayToken(summary('noauth.json'), new FakeKubeClient())).toBeUndefined();
  });

  it.each([
    ['a missing Secret', 'token-generated.json', undefined, 'RAY_TOKEN_NOT_FOUND'],
    ['a Secret without the key', 'token-generated.json', { data: {} }, 'RAY_TOKEN_NOT_FOUND'],
    ['no permission', 'token-generated.json', FakeKubeClient.status(403), 'ACCESS_DENIED'],
  ])('%s', async (_what, file, answer, code) => {
    const kube = new FakeKubeClient();
    if (answer !== undefined) kube.on('GET', secretPath('raycluster-token'), answer);
    await expect(getRayToken(summary(file), kube)).rejects.toMatchObject({ code });
  });

  it('a token file inside the pod cannot be read: says so with the fix', async () => {
    await expect(getRayToken(summary('legacy-token-path.json'), new FakeKubeClient())).rejects.toMatchObject({
      code: 'RAY_TOKEN_NOT_FOUND',
      message: expect.stringMatching(/\/etc\/ray\/token/),
    });
  });

  it('RBAC mode with a client-certificate user: explained', async () => {
    const kube = new FakeKubeClient();
    kube.token = undefined;
    await expect(getRayToken(summary('rbac.json'), kube)).rejects.toMatchObject({
      code: 'RAY_TOKEN_NOT_FOUND',
      fix: expect.stringMatching(/login/),
    });
  });
});
