import { performance } from 'node:perf_hooks';
import type { Socket } from 'node:net';
import type { Logger } from '../ports/Logger.js';
import { procAddress, ProcTableScanner, type ReadChunks } from './procNet.js';

/** Decides whether an accepted local connection may use a forward: it must come from a process of our own uid. */
export type PeerCheck = (socket: Socket) => Promise<boolean>;

/** The setting that turns the check off (shared hosts lose their protection: documented as a named opt-out). */
export const PEER_CHECK_SETTING = 'RAY_CONNECT_PEER_CHECK';

export interface PeerCheckDeps {
  /** Reads a /proc/net file page by page (default: readProcChunks). */
  readChunks?: ReadChunks;
  platform?: NodeJS.Platform;
  /** Our uid (default process.getuid()). */
  uid?: number;
  env?: Record<string, string | undefined>;
  logger: Logger;
}

/**
 * Linux: the connecting socket's owner from /proc/net/tcp (then tcp6, for a client on an IPv6 socket connecting
 * to the IPv4 address as ::ffff:127.0.0.1). Another uid, or no row (the client already gone) -> refused and
 * destroyed before any byte is read; logged at debug with the uid, never data.
 * /proc unreadable -> refused (fail closed), one warning naming RAY_CONNECT_PEER_CHECK=off.
 * Not Linux (macOS, Windows: no /proc; single-user machines in practice) -> allowed, one info line.
 * RAY_CONNECT_PEER_CHECK=off -> allowed, one warning.
 */
export function createPeerCheck(deps: PeerCheckDeps): PeerCheck {
  const { logger } = deps;
  const platform = deps.platform ?? process.platform;
  const setting = (deps.env ?? process.env)[PEER_CHECK_SETTING]?.trim().toLowerCase();
  if (setting === 'off' || setting === 'false' || setting === '0') {
    logger.warn(
      `${PEER_CHECK_SETTING}=off: local forwards accept connections from every local user (no owner check)`,
    );
    return () => Promise.resolve(true);
  }
  if (platform !== 'linux') {
    logger.info(
      `Local forwards do not check the connecting user on ${platform} (no /proc); every local user can reach them`,
    );
    return () => Promise.resolve(true);
  }
  const uid = deps.uid ?? process.getuid?.() ?? -1;
  const tables = {
    v4: new ProcTableScanner('/proc/net/tcp', deps.readChunks),
    v6: new ProcTableScanner('/proc/net/tcp6', deps.readChunks),
  };
  let warned = false;
  const unreadable = (e: unknown) => {
    if (warned) return;
    warned = true;
    logger.warn(
      `Local forwards refuse every connection: /proc/net/tcp is unreadable (${e instanceof Error ? e.message : String(e)}), so the connecting user cannot be checked. Set ${PEER_CHECK_SETTING}=off to accept every local user`,
    );
  };
  return async (socket) => {
    const acceptedAt = performance.now();
    const peer = socket.remoteAddress;
    const peerPort = socket.remotePort;
    const own = socket.localAddress;
    const ownPort = socket.localPort;
    if (!peer || !peerPort || !own || !ownPort) return false;
    let owner: number | undefined;
    try {
      for (const v6 of [false, true]) {
        const local = procAddress(peer, peerPort, v6);
        const remote = procAddress(own, ownPort, v6);
        if (!local || !remote) continue;
        owner = await (v6 ? tables.v6 : tables.v4).lookup(local, remote, acceptedAt);
        if (owner !== undefined) break;
      }
    } catch (e) {
      unreadable(e);
      return false;
    }
    if (owner === uid) return true;
    logger.debug('local forward refused a connection of another user', {
      uid: owner ?? 'unknown',
      peerPort,
      localPort: ownPort,
    });
    return false;
  };
}
