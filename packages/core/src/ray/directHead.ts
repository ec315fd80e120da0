import type { RayClusterRef, RayClusterSummary } from '@ray-connect/shared';
import { hostPort } from './choosePath.js';
import type { HeadPath } from './headPath.js';
import type { HeadSupervisor } from './superviseHead.js';

/**
 * The head pod's own IP, no port-forward (no `pods/portforward` right needed): sessions get
 * http://<pod IP>:<dashboard port> and ray://<pod IP>:<client port>. The supervisor keeps the pod resolved; when the
 * head pod is replaced its new IP is used (the last known one while re-resolving), and connectRayCluster bumps the
 * env version so hosts re-inject.
 */
export function directHead(
  ref: RayClusterRef,
  cluster: RayClusterSummary,
  supervisor: HeadSupervisor,
): HeadPath {
  const dashboardPort = cluster.ports.dashboard ?? 8265;
  const clientPort = cluster.ports.client ?? 10001;
  let last: string | undefined;
  const ip = () => {
    const now = supervisor.current?.ip;
    if (now) last = now;
    return last;
  };
  return {
    kind: 'direct',
    probeTarget: () => {
      const host = supervisor.current?.ip;
      return host ? { host, port: dashboardPort } : undefined;
    },
    dashboardUrl: () => {
      const host = ip();
      return host ? `http://${hostPort(host, dashboardPort)}` : undefined;
    },
    clientAddress: () => {
      const host = ip();
      return host ? `ray://${hostPort(host, clientPort)}` : undefined;
    },
    stop: () => {
      const host = last;
      return Promise.resolve(host ? [`direct path -> ${ref.name} at ${hostPort(host, dashboardPort)}`] : []);
    },
  };
}
