import type { ConnectOptions, RayClusterRef, RayClusterSummary } from '@ray-connect/shared';
import type { RayConnectError } from '../errors.js';
import type { KubeClient } from '../ports/KubeClient.js';
import type { Logger } from '../ports/Logger.js';
import { forwardPort, type ForwardPortDeps, type PortForward } from './forwardPort.js';
import type { HeadPath } from './headPath.js';
import { openPortForward } from './openPortForward.js';
import type { PeerCheck } from './peerCheck.js';
import type { HeadSupervisor } from './superviseHead.js';

export interface ForwardedHeadDeps {
  kube: KubeClient;
  supervisor: HeadSupervisor;
  /** Who may use the local listeners (createPeerCheck). */
  allowPeer?: PeerCheck;
  logger: Logger;
}

/**
 * Port-forwards through the API server: our listeners on 127.0.0.1 for the dashboard and the Ray Client port, each
 * connection a `pods/portforward` stream to the pod the supervisor resolved.
 */
export async function forwardedHead(
  ref: RayClusterRef,
  cluster: RayClusterSummary,
  options: ConnectOptions,
  deps: ForwardedHeadDeps,
): Promise<HeadPath> {
  const { supervisor } = deps;
  const fwdDeps: ForwardPortDeps = {
    target: () => supervisor.target(),
    open: (pod, port) => openPortForward(deps.kube, ref.namespace, pod, port),
    onStreamError: (pod: string, e: RayConnectError) => supervisor.reportBroken(pod, e),
    logger: deps.logger,
    ...(deps.allowPeer && { allowPeer: deps.allowPeer }),
  };
  const forwards: PortForward[] = [];
  const stop = async () => {
    const removed: string[] = [];
    for (const f of forwards.splice(0)) {
      await f.close();
      removed.push(`port-forward 127.0.0.1:${f.localPort} -> ${ref.name}:${f.remotePort}`);
    }
    return removed;
  };
  try {
    const dashboard = await forwardPort(
      {
        label: 'dashboard',
        remotePort: cluster.ports.dashboard ?? 8265,
        localPort: options.dashboardPort ?? 0,
      },
      fwdDeps,
    );
    forwards.push(dashboard);
    const client = await forwardPort(
      { label: 'client', remotePort: cluster.ports.client ?? 10001, localPort: options.clientPort ?? 0 },
      fwdDeps,
    );
    forwards.push(client);
    return {
      kind: 'forward',
      probeTarget: () => dashboard.localPort,
      dashboardUrl: () => `http://127.0.0.1:${dashboard.localPort}`,
      clientAddress: () => `ray://127.0.0.1:${client.localPort}`,
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
