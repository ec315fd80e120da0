import type { RayClusterSummary } from '@ray-connect/shared';
import type { Pod } from './kubeTypes.js';
import { asArray, asRecord, asString } from './json.js';

/**
 * Diagnostics that need the running head pod (the operator injects env the RayCluster template does not show).
 * KubeRay <= 1.5 does not set RAY_CLUSTER_NAMESPACE: Ray's Kubernetes RBAC mode then answers 403 to everyone.
 */
export function headPodWarnings(summary: RayClusterSummary, pod: Pod): string[] {
  if (summary.authMode !== 'kubernetes') return [];
  const ray = asRecord(asArray(asRecord(pod.spec)?.containers)[0]);
  const names = new Set(asArray(ray?.env).map((e) => asString(asRecord(e)?.name)));
  if (names.has('RAY_CLUSTER_NAMESPACE')) return [];
  return [
    'the head pod has no RAY_CLUSTER_NAMESPACE (KubeRay <= 1.5): Ray RBAC mode will answer 403 to every request; upgrade KubeRay to >= 1.6 or set RAY_CLUSTER_NAME and RAY_CLUSTER_NAMESPACE on the head container',
  ];
}
