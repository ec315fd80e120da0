import { RayConnectError } from '../errors.js';
import type { KubeClient, KubeIdentity } from '../ports/KubeClient.js';

/** Who the API server thinks we are (SelfSubjectReview, authentication.k8s.io/v1; Kubernetes >= 1.28). */
export async function whoAmI(client: KubeClient, signal?: AbortSignal): Promise<KubeIdentity> {
  const review = await client.request<{ status?: { userInfo?: { username?: unknown; groups?: unknown } } }>({
    method: 'POST',
    path: '/apis/authentication.k8s.io/v1/selfsubjectreviews',
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
    ...(signal ? { signal } : {}),
  });
  const info = review?.status?.userInfo;
  if (typeof info?.username !== 'string') {
    throw new RayConnectError(
      'INTERNAL',
      `The API server ${client.server} returned a SelfSubjectReview without a username.`,
      { details: { url: client.server } },
    );
  }
  const groups = Array.isArray(info.groups)
    ? info.groups.filter((g): g is string => typeof g === 'string')
    : [];
  return { username: info.username, groups };
}
