import type { RayClusterSummary } from '@ray-connect/shared';
import type { Condition, RayCluster } from './kubeTypes.js';
import { asArray, asRecord, asString } from './json.js';

type State = Pick<RayClusterSummary, 'state' | 'stateReason'>;

/**
 * Readiness from the conditions KubeRay >= 1.2 writes (HeadPodReady, RayClusterProvisioned, suspension,
 * replica failure), falling back to the deprecated `status.state`.
 */
export function rayClusterState(rc: RayCluster): State {
  const spec = asRecord(rc.spec);
  const status = asRecord(rc.status);
  const conditions = asArray(status?.conditions)
    .map(asRecord)
    .filter((c) => c !== undefined) as Condition[];
  const find = (type: string) => conditions.find((c) => c.type === type);
  const isTrue = (c: Condition | undefined) => c?.status === 'True';
  const why = (c: Condition | undefined) => asString(c?.message) || asString(c?.reason);

  if (spec?.suspend === true || isTrue(find('RayClusterSuspended')))
    return { state: 'suspended', stateReason: 'the RayCluster is suspended' };
  if (isTrue(find('RayClusterSuspending')))
    return { state: 'suspended', stateReason: 'the RayCluster is being suspended' };

  const headReady = find('HeadPodReady');
  const provisioned = find('RayClusterProvisioned');
  if (isTrue(headReady)) return { state: 'ready' };
  const failure = find('RayClusterReplicaFailure');
  if (isTrue(failure)) return withReason('failed', why(failure));
  if (headReady !== undefined)
    return withReason('provisioning', why(headReady) ?? 'the head pod is not ready');
  if (isTrue(provisioned)) return { state: 'ready' };
  if (provisioned !== undefined) return withReason('provisioning', why(provisioned));

  const state = asString(status?.state)?.toLowerCase();
  const reason = asString(status?.reason);
  if (state === 'ready') return { state: 'ready' };
  if (state === 'suspended') return withReason('suspended', reason);
  if (state === 'failed') return withReason('failed', reason);
  if (status === undefined)
    return { state: 'provisioning', stateReason: 'KubeRay has not reported a status yet' };
  return withReason(state ? 'unknown' : 'provisioning', reason ?? (state ? `state ${state}` : undefined));
}

function withReason(state: RayClusterSummary['state'], reason: string | undefined): State {
  return reason ? { state, stateReason: reason } : { state };
}
