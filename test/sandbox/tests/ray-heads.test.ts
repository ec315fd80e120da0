// Ray side of the sandbox, reached the way the product reaches it: `kubectl port-forward` to a RayCluster's head pod
// (kwok forwards it to a real local Ray head), then Ray's own CLI and plain HTTP. Proves the three auth shapes:
// static token (401 without, 403 wrong), Kubernetes RBAC (TokenReview + SubjectAccessReview), and no auth.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken, kubectl, oidcLogin, readSandbox } from '../client.mjs';
import {
  authMode,
  cleanup,
  type Forward,
  getStatus,
  jobSucceeded,
  portForward,
  rayJobSubmit,
} from './helpers';

const DASHBOARD = 8265;

async function headPod(cluster: string): Promise<string> {
  const r = await kubectl([
    'get',
    'pods',
    '-n',
    'ray-demo',
    '-l',
    `ray.io/cluster=${cluster},ray.io/node-type=head`,
    '-o',
    'jsonpath={.items[0].metadata.name}',
  ]);
  if (r.code !== 0 || !r.stdout.trim()) throw new Error(`no head pod for RayCluster ${cluster}: ${r.stderr}`);
  return r.stdout.trim();
}

/** The Ray token the way a user with Secret access gets it: key auth_token of the cluster's Secret. */
async function secretToken(secret: string): Promise<string> {
  const r = await kubectl(['get', 'secret', secret, '-n', 'ray-demo', '-o', 'jsonpath={.data.auth_token}']);
  if (r.code !== 0 || !r.stdout.trim()) throw new Error(`no auth_token in Secret ${secret}: ${r.stderr}`);
  return Buffer.from(r.stdout.trim(), 'base64').toString('utf8').trim();
}

async function forwardDashboard(cluster: string): Promise<Forward> {
  return portForward(await headPod(cluster), DASHBOARD, readSandbox().adminKubeconfig);
}

afterAll(cleanup);

describe('token-mode head (raycluster-token)', () => {
  let fwd: Forward;
  let token: string;

  beforeAll(async () => {
    token = await secretToken('raycluster-token');
    fwd = await forwardDashboard('raycluster-token');
  });
  afterAll(() => fwd?.close());

  it('reports authentication_mode token through the port-forward', async () => {
    expect(await authMode(fwd.port)).toBe('token');
  });

  it('GET /api/jobs/: 401 without a token, 403 with a wrong one, 200 with the right one', async () => {
    expect(await getStatus(fwd.port, '/api/jobs/')).toBe(401);
    expect(await getStatus(fwd.port, '/api/jobs/', 'not-the-token')).toBe(403);
    expect(await getStatus(fwd.port, '/api/jobs/', token)).toBe(200);
  });

  it('ray job submit with RAY_AUTH_MODE=token and the right RAY_AUTH_TOKEN succeeds', async () => {
    const r = await rayJobSubmit(fwd.port, token);
    expect(jobSucceeded(r), r.out).toBe(true);
  });

  it('ray job submit without a token is refused with 401 (Unauthorized)', async () => {
    const r = await rayJobSubmit(fwd.port);
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/Unauthorized: Missing authentication token/);
  });

  it('ray job submit with a wrong token is refused with 403 (Forbidden)', async () => {
    const r = await rayJobSubmit(fwd.port, 'not-the-token');
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/Forbidden: Invalid authentication token/);
  });

  it('the bring-your-own Secret and legacy clusters hold tokens the head accepts', async () => {
    for (const [cluster, secret] of [
      ['raycluster-secretname', 'raycluster-secretname-byo'],
      ['raycluster-legacy', 'raycluster-legacy-manual'],
    ]) {
      const f = await forwardDashboard(cluster);
      try {
        expect(await getStatus(f.port, '/api/jobs/', await secretToken(secret)), cluster).toBe(200);
      } finally {
        await f.close();
      }
    }
  });
});

describe('Kubernetes RBAC-mode head (raycluster-rbac)', () => {
  let fwd: Forward;
  let saToken: string;
  let alice: string;
  let bob: string;

  beforeAll(async () => {
    saToken = await createToken('ray-demo', 'ray-user');
    alice = (await oidcLogin('alice')).idToken;
    bob = (await oidcLogin('bob')).idToken;
    fwd = await forwardDashboard('raycluster-rbac');
  });
  afterAll(() => fwd?.close());

  it('reports authentication_mode token through the port-forward', async () => {
    expect(await authMode(fwd.port)).toBe('token');
  });

  it('GET /api/jobs/: 401 without a token, 200 for ray-user and alice, 403 for bob', async () => {
    expect(await getStatus(fwd.port, '/api/jobs/')).toBe(401);
    expect(await getStatus(fwd.port, '/api/jobs/', saToken)).toBe(200);
    expect(await getStatus(fwd.port, '/api/jobs/', alice)).toBe(200);
    expect(await getStatus(fwd.port, '/api/jobs/', bob)).toBe(403);
  });

  it('accepts `kubectl create token ray-user -n ray-demo` as the Ray token', async () => {
    const r = await rayJobSubmit(fwd.port, saToken);
    expect(jobSucceeded(r), r.out).toBe(true);
  });

  it("accepts alice's OIDC id_token as the Ray token", async () => {
    const r = await rayJobSubmit(fwd.port, alice);
    expect(jobSucceeded(r), r.out).toBe(true);
  });

  it("rejects bob's OIDC id_token with 403 (authenticated, but no ray:write)", async () => {
    const r = await rayJobSubmit(fwd.port, bob);
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/Forbidden: Invalid authentication token/);
  });

  it('rejects a token the apiserver does not know with 403', async () => {
    expect(await getStatus(fwd.port, '/api/jobs/', 'not-a-kubernetes-token')).toBe(403);
  });
});

describe('no-auth head (raycluster-noauth)', () => {
  let fwd: Forward;

  beforeAll(async () => {
    fwd = await forwardDashboard('raycluster-noauth');
  });
  afterAll(() => fwd?.close());

  it('reports authentication_mode disabled and serves /api/jobs/ without a token', async () => {
    expect(await authMode(fwd.port)).toBe('disabled');
    expect(await getStatus(fwd.port, '/api/jobs/')).toBe(200);
  });

  it('ray job submit without a token succeeds', async () => {
    const r = await rayJobSubmit(fwd.port);
    expect(jobSucceeded(r), r.out).toBe(true);
  });
});
