import { describe, expect, it } from 'vitest';
import type { KubeClient, KubeRequest } from '../ports/KubeClient.js';
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
