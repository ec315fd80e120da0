import { isRayConnectError, RayConnectError } from '../errors.js';
import type { KubeClient, KubeIdentity } from '../ports/KubeClient.js';

/** SelfSubjectReview is GA in Kubernetes 1.28, beta in 1.27, alpha in 1.26 (e.g. older OpenShift): try in that order. */
const VERSIONS = ['v1', 'v1beta1', 'v1alpha1'];

interface Review {
  status?: { userInfo?: { username?: unknown; groups?: unknown } };
}

/** Who the API server thinks we are (SelfSubjectReview, authentication.k8s.io). */
export async function whoAmI(client: KubeClient, signal?: AbortSignal): Promise<KubeIdentity> {
  for (const version of VERSIONS) {
    let review: Review;
    try {
      review = await client.request<Review>({
        method: 'POST',
        path: `/apis/authentication.k8s.io/${version}/selfsubjectreviews`,
        body: { apiVersion: `authentication.k8s.io/${version}`, kind: 'SelfSubjectReview' },
        ...(signal ? { signal } : {}),
      });
    } catch (e) {
      if (isRayConnectError(e) && e.details?.status === 404) continue;
      throw e;
    }
    const info = review?.status?.userInfo;
    if (typeof info?.username !== 'string') {
      throw new RayConnectError(
        'INTERNAL',
        `The API server ${client.server} returned a SelfSubjectReview without a username.`,
        {
          details: { url: client.server },
        },
      );
    }
    const groups = Array.isArray(info.groups)
      ? info.groups.filter((g): g is string => typeof g === 'string')
      : [];
    return { username: info.username, groups };
  }
  throw new RayConnectError(
    'INTERNAL',
    `The API server ${client.server} does not offer SelfSubjectReview (Kubernetes 1.26 or newer is needed to show who you are).`,
    {
      details: { url: client.server, status: 404 },
    },
  );
}
