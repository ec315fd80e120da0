// Ray cluster discovery against the sandbox: every RayCluster shape with its auth mode and token source, and the
// token each resolves to, as alice (OIDC user in oidc:ray-users) through the facade.
import { beforeAll, describe, expect, it } from 'vitest';
import type { RayClusterSummary } from '../../../shared/src/index.js';
import { facade, sandbox, secretToken, userKubeconfig } from './helpers.js';

describe('Ray cluster discovery (sandbox)', () => {
  let items: RayClusterSummary[];
  let api: ReturnType<typeof facade>;
  let clusterId: string;
  const s = sandbox();

  beforeAll(async () => {
    api = facade(await userKubeconfig('alice'));
    const clusters = await api.listClusters();
    clusterId = clusters[0]?.id ?? '';
    const list = await api.listRayClusters(clusterId);
    expect(list.errors).toEqual([]);
    expect(list.searched).toEqual([s.namespace]);
    items = list.items;
  });

  const find = (key: string) => items.find((i) => i.name === s.rayClusters[key]);

  it.each([
    ['token', 'token', { kind: 'secret', secretName: 'raycluster-token', key: 'auth_token' }],
    ['secretName', 'token', { kind: 'secret', secretName: 'raycluster-secretname-byo', key: 'auth_token' }],
    ['rbac', 'kubernetes', { kind: 'kubernetes-identity' }],
    ['legacy', 'token', { kind: 'secret', secretName: 'raycluster-legacy-manual', key: 'auth_token' }],
    ['noauth', 'none', { kind: 'none' }],
    ['emptyAuth', 'none', { kind: 'none' }],
  ])('%s: auth mode %s and its token source', (key, mode, source) => {
    const item = find(key);
    expect(item, `RayCluster ${key}`).toBeDefined();
    expect(item?.state).toBe('ready');
    expect(item?.authMode).toBe(mode);
    expect(item?.tokenSource).toEqual(source);
    expect(item?.headPod).toBe(s.rayClusterDetails[key]?.headPod);
    expect(item?.ports.dashboard).toBe(8265);
  });

  it('the token of token, secretName and legacy clusters is the Secret value, untouched', async () => {
    for (const key of ['token', 'secretName', 'legacy']) {
      const item = find(key);
      const source = item?.tokenSource;
      if (!item || source?.kind !== 'secret') throw new Error(`no secret source for ${key}`);
      const got = await api.rayToken(item);
      expect(
        got.token === (await secretToken(source.secretName, item.namespace)),
        `token of ${key} matches its Secret`,
      ).toBe(true);
    }
  });

  it('RBAC mode: the Ray token is the user own Kubernetes token', async () => {
    const item = find('rbac');
    if (!item) throw new Error('no rbac cluster');
    const got = await api.rayToken(item);
    expect(got.token.split('.').length).toBe(3); // alice's OIDC id_token (a JWT)
    expect(got.expiresAt).toBeGreaterThan(Date.now());
  });

  it('access check: alice may use the RBAC cluster and read the token Secret', async () => {
    const rbac = await api.checkAccess(find('rbac')!);
    expect(rbac).toMatchObject({ allowed: true, checked: ['ray:write on rayclusters/raycluster-rbac'] });
    const token = await api.checkAccess(find('token')!);
    expect(token).toMatchObject({ allowed: true, checked: ['get secrets/raycluster-token'] });
  });

  it('bob: listing works, the access check explains the RBAC he needs', async () => {
    const bob = facade(await userKubeconfig('bob'));
    const id = (await bob.listClusters())[0]?.id ?? '';
    const list = await bob.listRayClusters(id);
    const rbac = list.items.find((i) => i.name === s.rayClusters.rbac);
    expect(rbac?.authMode).toBe('kubernetes');
    const check = await bob.checkAccess(rbac!);
    expect(check.allowed).toBe(false);
    expect(check.error?.code).toBe('ACCESS_DENIED');
    expect(check.error?.fix).toMatch(
      /kubectl create role .* --verb=ray:write --resource=rayclusters.ray.io --resource-name=raycluster-rbac/,
    );
    expect(check.error?.fix).toMatch(/--user=oidc:bob/);
    expect(check.error?.fix).toMatch(/5 minutes/);
    await bob.close();
  });
});
