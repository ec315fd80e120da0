import type { ConnectionPath } from '@ray-connect/shared';
import type { DashboardTarget } from './probeRay.js';

/**
 * How this process reaches one Ray head: a port-forward through the API server (forwardedHead), the head pod's IP
 * (directHead), or an OpenShift AI proxy in front (frontedHead). connectRayCluster drives any of them the same way.
 */
export interface HeadPath {
  readonly kind: ConnectionPath;
  /** Where probes reach the dashboard; undefined when fronted (the proxy is verified instead) or not resolved yet. */
  probeTarget(): DashboardTarget | undefined;
  /** RAY_ADDRESS and "Open dashboard". */
  dashboardUrl(): string | undefined;
  /** ray://... for Ray Client. */
  clientAddress(): string | undefined;
  /** Stops it; says what it removed. */
  stop(): Promise<string[]>;
}

/** An OpenShift AI proxy fronts the dashboard: its URL, no Ray Client address, nothing of ours to stop. */
export function frontedHead(url: string): HeadPath {
  return {
    kind: 'fronted',
    probeTarget: () => undefined,
    dashboardUrl: () => url,
    clientAddress: () => undefined,
    stop: () => Promise.resolve([]),
  };
}
