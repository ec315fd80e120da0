import { RayConnectError, wrapError } from '../errors.js';
import type { KubeClient } from '../ports/KubeClient.js';
import { asArray, asRecord, asString } from './json.js';
import { type KubeList, type Pod, podsPath } from './kubeTypes.js';
import { isNotFound } from './kubeStatus.js';

export interface HeadPod {
  name: string;
  uid?: string;
  /** status.podIP, when the pod has one. */
  ip?: string;
  pod: Pod;
}

/**
 * The running head pod of a RayCluster: `status.head.podName` when given and alive, else the label selector
 * `ray.io/cluster=<c>,ray.io/node-type=head`. RAYCLUSTER_NOT_READY when no head pod is running.
 */
export async function findHeadPod(
  kube: KubeClient,
  namespace: string,
  cluster: string,
  hint?: string,
): Promise<HeadPod> {
  try {
    if (hint) {
      try {
        const pod = await kube.request<Pod>({ path: podsPath(namespace, hint) });
        if (isRunning(pod)) return toHead(pod);
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
    const list = await kube.request<KubeList<Pod>>({
      path: podsPath(namespace),
      query: { labelSelector: `ray.io/cluster=${cluster},ray.io/node-type=head` },
    });
    const pods = asArray(asRecord(list)?.items) as Pod[];
    const running = pods.find(isRunning);
    if (running) return toHead(running);
    const waiting = pods.map(whyNotRunning).find((w) => w !== undefined);
    throw new RayConnectError(
      'RAYCLUSTER_NOT_READY',
      `RayCluster ${cluster} has no running head pod${waiting ? ` (${waiting})` : pods.length ? ' (it is starting)' : ''}`,
      {
        fix: `Wait for the head pod, or check it: kubectl get pods -n ${namespace} -l ray.io/cluster=${cluster},ray.io/node-type=head`,
        details: { namespace, name: cluster, ...(waiting !== undefined && { waiting }) },
      },
    );
  } catch (e) {
    throw wrapError(e, `Finding the head pod of ${namespace}/${cluster}`, 'CLUSTER_UNREACHABLE');
  }
}

function isRunning(pod: Pod | undefined): pod is Pod {
  const p = asRecord(pod) as Pod | undefined;
  return (
    !!p &&
    !!asString(p.metadata?.name) &&
    !p.metadata?.deletionTimestamp &&
    asString(asRecord(p.status)?.phase) === 'Running'
  );
}

function toHead(pod: Pod): HeadPod {
  const head: HeadPod = { name: asString(pod.metadata?.name) ?? '', pod };
  const uid = asString(pod.metadata?.uid);
  if (uid) head.uid = uid;
  const ip = asString(asRecord(pod.status)?.podIP);
  if (ip) head.ip = ip;
  return head;
}

/** Why a head pod is not running, from the pod itself: a container's waiting reason, else an unmet condition. */
export function whyNotRunning(pod: Pod): string | undefined {
  const name = asString(pod.metadata?.name) ?? 'the head pod';
  const status = asRecord(pod.status);
  for (const c of asArray(status?.containerStatuses)) {
    const waiting = asRecord(asRecord(asRecord(c)?.state)?.waiting);
    const reason = asString(waiting?.reason);
    if (reason) {
      const message = asString(waiting?.message);
      return `${name}: ${reason}${message ? `: ${message}` : ''}`;
    }
  }
  for (const c of asArray(status?.conditions).map(asRecord)) {
    if (asString(c?.status) !== 'False') continue;
    const reason = asString(c?.reason);
    const message = asString(c?.message);
    if (reason || message) return `${name}: ${[reason, message].filter(Boolean).join(': ')}`;
  }
  const phase = asString(status?.phase);
  return phase && phase !== 'Running' ? `${name} is ${phase}` : undefined;
}
