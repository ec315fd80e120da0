import type { KubeClient } from '../ports/KubeClient.js';

/** What to ask about: `kubectl auth can-i <verb> <resource> -n <namespace>`. */
export interface AccessAttributes {
  verb: string;
  resource: string;
  group?: string;
  namespace?: string;
  name?: string;
  subresource?: string;
}

export interface AccessAnswer {
  allowed: boolean;
  denied: boolean;
  reason?: string;
}

/** SelfSubjectAccessReview (authorization.k8s.io/v1): may the current identity do this? */
export async function canI(
  client: KubeClient,
  attrs: AccessAttributes,
  signal?: AbortSignal,
): Promise<AccessAnswer> {
  const resourceAttributes: Record<string, string> = {
    verb: attrs.verb,
    resource: attrs.resource,
    group: attrs.group ?? '',
  };
  if (attrs.namespace !== undefined) resourceAttributes.namespace = attrs.namespace;
  if (attrs.name !== undefined) resourceAttributes.name = attrs.name;
  if (attrs.subresource !== undefined) resourceAttributes.subresource = attrs.subresource;
  const review = await client.request<{ status?: { allowed?: unknown; denied?: unknown; reason?: unknown } }>(
    {
      method: 'POST',
      path: '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectAccessReview',
        spec: { resourceAttributes },
      },
      ...(signal ? { signal } : {}),
    },
  );
  const s = review?.status;
  const answer: AccessAnswer = { allowed: s?.allowed === true, denied: s?.denied === true };
  if (typeof s?.reason === 'string' && s.reason !== '') answer.reason = s.reason;
  return answer;
}
