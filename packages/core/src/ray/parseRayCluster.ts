import type { RayClusterSummary } from '@ray-connect/shared';
import { RayConnectError } from '../errors.js';
import type { Container, RayCluster } from './kubeTypes.js';
import { asArray, asNumber, asRecord, asString } from './json.js';
import { kubeRayRejects } from './kubeRayValidation.js';
import { headContainer, rayAuthMode } from './rayAuthMode.js';
import { rayClusterState } from './rayClusterState.js';

/** KubeRay adds these ports to the head when the template does not name them. */
const DEFAULT_PORTS: Record<string, number> = {
  'gcs-server': 6379,
  dashboard: 8265,
  client: 10001,
  metrics: 8080,
};

/**
 * A RayCluster object (untrusted JSON from the API server) as the editors show it. Never throws on odd fields:
 * they read as absent and become warnings. Throws BAD_REQUEST only when the object has no name or namespace.
 */
export function parseRayCluster(object: unknown, clusterId: string): RayClusterSummary {
  const rc = asRecord(object) as RayCluster | undefined;
  const meta = asRecord(rc?.metadata);
  const name = asString(meta?.name);
  const namespace = asString(meta?.namespace);
  if (rc === undefined || !name || !namespace)
    throw new RayConnectError(
      'BAD_REQUEST',
      'The API server returned a RayCluster without a name or namespace',
      {
        details: { kind: 'RayCluster' },
      },
    );

  const status = asRecord(rc.status);
  const head = asRecord(status?.head);
  const auth = rayAuthMode(rc, name);
  const summary: RayClusterSummary = {
    clusterId,
    namespace,
    name,
    ...rayClusterState(rc),
    authMode: auth.authMode,
    tokenSource: auth.tokenSource,
    ports: headPorts(headContainer(rc), asRecord(status?.endpoints)),
    warnings: auth.warnings,
  };
  const rayVersion = asString(asRecord(rc.spec)?.rayVersion);
  if (rayVersion) summary.rayVersion = rayVersion;
  const podName = asString(head?.podName);
  if (podName) summary.headPod = podName;
  summary.headService = asString(head?.serviceName) || `${name}-head-svc`;
  const rejected = kubeRayRejects(rc, name);
  if (rejected !== undefined) {
    // KubeRay only records an event: no status, no pods, no Secret will ever come.
    summary.state = 'failed';
    summary.stateReason = `KubeRay rejects this RayCluster: ${rejected}`;
    summary.tokenSource = { kind: 'none' };
  }
  if (asRecord(rc.spec)?.headGroupSpec === undefined)
    summary.warnings.push('the RayCluster has no headGroupSpec');
  return summary;
}

/** Named ports of the head container, then `status.endpoints`, then KubeRay's defaults. */
export function headPorts(
  container: Container | undefined,
  endpoints: Record<string, unknown> | undefined,
): Record<string, number> {
  const ports: Record<string, number> = { ...DEFAULT_PORTS };
  for (const [portName, value] of Object.entries(endpoints ?? {})) {
    const port = asNumber(value);
    if (port !== undefined && validPort(port)) ports[portName] = port;
  }
  for (const p of asArray(container?.ports)) {
    const portName = asString(asRecord(p)?.name);
    const port = asNumber(asRecord(p)?.containerPort);
    if (portName && port !== undefined && validPort(port)) ports[portName] = port;
  }
  return ports;
}

function validPort(port: number): boolean {
  return Number.isInteger(port) && port > 0 && port < 65536;
}
