import type { RayClusterRef, RayClusterSummary } from '@ray-connect/shared';
import { RayConnectError, wrapError } from '../errors.js';
import type { KubeClient } from '../ports/KubeClient.js';
import { rayClustersPath } from './kubeTypes.js';
import { isNotFound } from './kubeStatus.js';
import { parseRayCluster } from './parseRayCluster.js';

/** One RayCluster, parsed. RAYCLUSTER_NOT_FOUND when it does not exist. */
export async function getRayCluster(ref: RayClusterRef, kube: KubeClient): Promise<RayClusterSummary> {
  let object: unknown;
  try {
    object = await kube.request({ path: rayClustersPath(ref.namespace, ref.name) });
  } catch (e) {
    if (isNotFound(e))
      throw new RayConnectError(
        'RAYCLUSTER_NOT_FOUND',
        `RayCluster ${ref.name} not found in namespace ${ref.namespace}`,
        {
          fix: 'Run `ray-connect clusters` to see the RayClusters you can use, or pick another namespace with --namespace',
          details: { namespace: ref.namespace, name: ref.name },
          cause: e,
        },
      );
    throw wrapError(e, `Reading RayCluster ${ref.namespace}/${ref.name}`);
  }
  return parseRayCluster(object, ref.clusterId);
}
