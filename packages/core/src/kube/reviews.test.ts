import { describe, expect, it } from 'vitest';
import type { KubeClient, KubeRequest } from '../ports/KubeClient.js';
import { RayConnectError } from '../errors.js';
import { canI } from './canI.js';
import { whoAmI } from './whoAmI.js';

function fakeClient(answer: unknown): KubeClient & { requests: KubeRequest[] } {
  const requests: KubeRequest[] = [];
  return {
    server: 'https://k',
    namespace: 'default',
    requests,
    async request<T>(req: KubeRequest) {
      requests.push(req);
      return answer as T;
    },
    bearerToken: async () => undefined,
    webSocketOptions: async () => ({ headers: {}, rejectUnauthorized: true }),
  };
}

describe('whoAmI', () => {
  it('POSTs a SelfSubjectReview and returns username and groups', async () => {
    const client = fakeClient({
      status: {
        userInfo: { username: 'system:serviceaccount:ns:sa', groups: ['system:serviceaccounts', 7] },
      },
    });
    expect(await whoAmI(client)).toEqual({
      username: 'system:serviceaccount:ns:sa',
      groups: ['system:serviceaccounts'],
    });
    expect(client.requests[0]).toMatchObject({
      method: 'POST',
      path: '/apis/authentication.k8s.io/v1/selfsubjectreviews',
      body: { kind: 'SelfSubjectReview' },
    });
  });

  it('falls back to v1beta1 then v1alpha1 on 404 (older clusters)', async () => {
    const paths: string[] = [];
    const client = fakeClient(undefined);
    client.request = async <T>(req: KubeRequest) => {
      paths.push(req.path);
      if (!req.path.includes('v1alpha1'))
        throw new RayConnectError('INTERNAL', 'not found', { details: { status: 404 } });
      return { status: { userInfo: { username: 'old' } } } as T;
    };
    expect((await whoAmI(client)).username).toBe('old');
    expect(paths.map((p) => p.split('/')[3])).toEqual(['v1', 'v1beta1', 'v1alpha1']);
  });

  it('other errors are not retried', async () => {
    const client = fakeClient(undefined);
    let n = 0;
    client.request = async () => {
      n++;
      throw new RayConnectError('TOKEN_INVALID', 'no', { details: { status: 401 } });
    };
    await expect(whoAmI(client)).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
    expect(n).toBe(1);
  });

  it('a review without a username is INTERNAL', async () => {
    await expect(whoAmI(fakeClient({ status: {} }))).rejects.toMatchObject({ code: 'INTERNAL' });
  });
});

describe('canI', () => {
  it('POSTs a SelfSubjectAccessReview with the resource attributes', async () => {
    const client = fakeClient({ status: { allowed: false, denied: true, reason: 'RBAC: no' } });
    expect(
      await canI(client, { verb: 'create', resource: 'rayclusters', group: 'ray.io', namespace: 'team' }),
    ).toEqual({ allowed: false, denied: true, reason: 'RBAC: no' });
    expect(client.requests[0]).toMatchObject({
      method: 'POST',
      path: '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
      body: {
        spec: {
          resourceAttributes: { verb: 'create', resource: 'rayclusters', group: 'ray.io', namespace: 'team' },
        },
      },
    });
  });

  it('allowed', async () => {
    expect(await canI(fakeClient({ status: { allowed: true } }), { verb: 'get', resource: 'pods' })).toEqual({
      allowed: true,
      denied: false,
    });
  });
});
