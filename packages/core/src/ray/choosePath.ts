import type { ConnectPathSetting, RayClusterSummary } from '@ray-connect/shared';
import { connect } from 'node:net';
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import { RayConnectError } from '../errors.js';
import type { KubeClient } from '../ports/KubeClient.js';
import type { Logger } from '../ports/Logger.js';
import { findHeadPod } from './findHeadPod.js';

/** The setting naming the path: auto (default) | direct | forward. */
export const CONNECT_PATH_SETTING = 'RAY_CONNECT_PATH';

/** How long a direct TCP connect to the head pod may take before auto falls back to the port-forward. */
export const DIRECT_DEADLINE_MS = 1500;

/** The connect option wins over RAY_CONNECT_PATH; anything else than auto|direct|forward is refused by name. */
export function connectPathSetting(
  env: Record<string, string | undefined>,
  option?: ConnectPathSetting,
): ConnectPathSetting {
  const raw = option ?? env[CONNECT_PATH_SETTING]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return 'auto';
  if (raw === 'auto' || raw === 'direct' || raw === 'forward') return raw;
  throw new RayConnectError(
    'BAD_REQUEST',
    `${CONNECT_PATH_SETTING}=${raw} is not a connection path (auto, direct or forward)`,
    {
      fix: `Set ${CONNECT_PATH_SETTING} to auto, direct or forward (or unset it: auto)`,
      details: { setting: CONNECT_PATH_SETTING },
    },
  );
}

/**
 * Where a direct connection to the pod IP can work at all, so `auto` only spends a connect attempt there: inside a
 * pod (KUBERNETES_SERVICE_HOST is set for every container), or when the pod IP lies in the subnet of one of this
 * host's interfaces (a node of the cluster; the sandbox's loopback pod network). A laptop talking to a remote
 * cluster matches neither and goes straight to the port-forward.
 */
export function directMayWork(
  podIp: string,
  env: Record<string, string | undefined>,
  interfaces: NodeJS.Dict<NetworkInterfaceInfo[]> = networkInterfaces(),
): boolean {
  if (env.KUBERNETES_SERVICE_HOST) return true;
  for (const list of Object.values(interfaces))
    for (const i of list ?? []) if (i.cidr && inSubnet(podIp, i.cidr)) return true;
  return false;
}

export interface PathChoice {
  kind: 'direct' | 'forward';
  /** Why the direct path was tried and not taken (said again if the forward fails too). */
  directMissed?: string;
}

/**
 * `forward`: the port-forward. `direct`: the head pod's IP or an error saying why not. `auto`: the pod IP when
 * directMayWork and a TCP connect to its dashboard port succeeds within DIRECT_DEADLINE_MS, else the forward.
 */
export async function choosePath(
  setting: ConnectPathSetting,
  cluster: RayClusterSummary,
  deps: { kube: KubeClient; env: Record<string, string | undefined>; logger: Logger },
): Promise<PathChoice> {
  if (setting === 'forward') return { kind: 'forward' };
  const { namespace, name } = cluster;
  // auto: a head that cannot be found now is the supervisor's to report (it retries); direct: say it now
  const head = await findHeadPod(deps.kube, namespace, name, cluster.headPod).catch((e: unknown) => {
    if (setting === 'direct') throw e;
    return undefined;
  });
  const port = cluster.ports.dashboard ?? 8265;
  if (!head?.ip) {
    if (setting === 'auto') return { kind: 'forward' };
    throw directError(name, `its head pod ${head?.name ?? ''} has no IP yet`);
  }
  if (setting === 'auto' && !directMayWork(head.ip, deps.env)) return { kind: 'forward' };
  if (await tcpReachable(head.ip, port)) return { kind: 'direct' };
  const missed = `the head pod ${head.name} at ${hostPort(head.ip, port)} did not accept a connection within ${DIRECT_DEADLINE_MS} ms`;
  if (setting === 'direct') throw directError(name, missed);
  deps.logger.info('direct path not reachable; using the port-forward', { namespace, name, reason: missed });
  return { kind: 'forward', directMissed: missed };
}

function directError(name: string, why: string): RayConnectError {
  return new RayConnectError('RAY_UNREACHABLE', `No direct path to Ray cluster ${name}: ${why}`, {
    fix: `A NetworkPolicy or the network between here and the pod blocks it: set ${CONNECT_PATH_SETTING}=auto (or forward) to use a port-forward through the API server`,
    details: { name, setting: CONNECT_PATH_SETTING },
  });
}

/** True when a TCP connection to host:port opens within `timeoutMs` (closed at once; nothing is sent). */
export function tcpReachable(host: string, port: number, timeoutMs = DIRECT_DEADLINE_MS): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: timeoutMs });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
}

/** IPv4 only (pod IPs of IPv6 clusters are not matched: auto then uses the forward unless in a pod). */
export function inSubnet(ip: string, cidr: string): boolean {
  const [net, bitsText] = cidr.split('/');
  const a = ipv4(ip);
  const b = ipv4(net ?? '');
  const bits = Number(bitsText);
  if (a === undefined || b === undefined || !Number.isInteger(bits) || bits < 0 || bits > 32) return false;
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return (a & mask) >>> 0 === (b & mask) >>> 0;
}

function ipv4(text: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  const p = m.slice(1).map(Number);
  if (p.some((n) => n > 255)) return undefined;
  return (((p[0] ?? 0) << 24) | ((p[1] ?? 0) << 16) | ((p[2] ?? 0) << 8) | (p[3] ?? 0)) >>> 0;
}

/** host:port as it goes into a URL (IPv6 in brackets). */
export function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
