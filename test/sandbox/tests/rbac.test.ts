// Kubernetes side of the sandbox: OIDC users and ServiceAccounts get exactly the Ray permission the RBAC-mode head
// checks (SubjectAccessReview: group ray.io, resource rayclusters, verb ray:write, name raycluster-rbac).
import { beforeAll, describe, expect, it } from 'vitest';
import { createToken, kubectl, oidcLogin, readSandbox } from '../client.mjs';

const canI = (token: string, target = 'rayclusters.ray.io/raycluster-rbac') =>
  kubectl(['auth', 'can-i', 'ray:write', target, '-n', 'ray-demo'], { token });

describe('Kubernetes RBAC: ray:write on ray-demo/raycluster-rbac', () => {
  let alice: string;
  let bob: string;

  beforeAll(async () => {
    readSandbox(); // throws a clear message when the sandbox is not up
    alice = (await oidcLogin('alice')).idToken;
    bob = (await oidcLogin('bob')).idToken;
  });

  it("the apiserver accepts alice's OIDC id_token as oidc:alice in group oidc:ray-users", async () => {
    const r = await kubectl(['auth', 'whoami', '-o', 'json'], { token: alice });
    expect(r.code, r.stderr).toBe(0);
    const status = JSON.parse(r.stdout).status.userInfo;
    expect(status.username).toBe('oidc:alice');
    expect(status.groups).toContain('oidc:ray-users');
  });

  it('alice may ray:write raycluster-rbac', async () => {
    const r = await canI(alice);
    expect(r.stdout.trim(), r.stderr).toBe('yes');
    expect(r.code).toBe(0);
  });

  it('bob may not', async () => {
    const r = await canI(bob);
    expect(r.stdout.trim(), r.stderr).toBe('no');
    expect(r.code).not.toBe(0);
  });

  it('ServiceAccount ray-demo/ray-user may (kubectl create token)', async () => {
    const r = await canI(await createToken('ray-demo', 'ray-user'));
    expect(r.stdout.trim(), r.stderr).toBe('yes');
  });

  it('the grant is scoped to raycluster-rbac: alice may not ray:write raycluster-token', async () => {
    const r = await canI(alice, 'rayclusters.ray.io/raycluster-token');
    expect(r.stdout.trim(), r.stderr).toBe('no');
  });
});
