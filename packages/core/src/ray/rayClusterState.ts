import type { RayClusterSummary } from '@ray-connect/shared';
import type { Condition, RayCluster } from './kubeTypes.js';
import { asArray, asRecord, asString } from './json.js';

type State = Pick<RayClusterSummary, 'state' | 'stateReason'>;

/**
 * Readiness from the conditions KubeRay >= 1.2 writes (HeadPodReady, RayClusterProvisioned, suspension,
 * ReplicaFailure), falling back to the deprecated `status.state`.
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
  // KubeRay's condition type is "ReplicaFailure" (rayv1.RayClusterReplicaFailure): a pod it could not create.
  const failure = find('ReplicaFailure');
  if (isTrue(headReady)) {
    if (isTrue(failure))
      return withReason('ready', `the head is ready, but ${oneLine(failure) ?? 'a pod failed'}`);
    // RayClusterProvisioned stays False (and `state` empty) until every worker is ready too.
    if (provisioned !== undefined && !isTrue(provisioned))
      return withReason('ready', 'the head is ready; workers are still starting');
    return { state: 'ready' };
  }
  // The message is errors.Join(reason, cause): one line, without the repeated reason.
  if (isTrue(failure)) return withReason('failed', oneLine(failure));
  if (headReady !== undefined) return withReason('provisioning', headNotReady(headReady));
  if (isTrue(provisioned)) return { state: 'ready' };
  if (provisioned !== undefined) return withReason('provisioning', why(provisioned));

  const state = asString(status?.state)?.toLowerCase();
  const reason = asString(status?.reason);
  if (state === 'ready') return { state: 'ready' };
  if (state === 'suspended') return withReason('suspended', reason);
  if (state === 'failed') return withReason('failed', reason);
  if (status === undefined)
    return { state: 'provisioning', stateReason: 'starting (no status from KubeRay yet)' };
  return withReason(state ? 'unknown' : 'provisioning', reason ?? (state ? `state ${state}` : undefined));
}

/** HeadPodReady False: the pod's message; KubeRay writes reason "Unknown" while the pod has no Ready condition. */
function headNotReady(c: Condition): string {
  const message = asString(c.message);
  if (message) return message;
  const reason = asString(c.reason);
  if (reason && reason !== 'Unknown') return `the head pod is not ready: ${reason}`;
  return 'the head pod is not ready (it is not scheduled or not started yet)';
}

function oneLine(c: Condition | undefined): string | undefined {
  const reason = asString(c?.reason);
  const lines = (asString(c?.message) ?? '').split('\n').map((l) => l.trim());
  const rest = lines.filter((l) => l && l !== reason);
  if (rest.length === 0) return reason;
  return reason ? `${reason}: ${rest.join('; ')}` : rest.join('; ');
}

function withReason(state: RayClusterSummary['state'], reason: string | undefined): State {
  return reason ? { state, stateReason: reason } : { state };
}
