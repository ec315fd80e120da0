import { readFile } from 'node:fs/promises';
import { endianness } from 'node:os';
import type { Socket } from 'node:net';
import type { Logger } from '../ports/Logger.js';

/** Decides whether an accepted local connection may use a forward: it must come from a process of our own uid. */
export type PeerCheck = (socket: Socket) => Promise<boolean>;

/** The setting that turns the check off (shared hosts lose their protection: documented as a named opt-out). */
export const PEER_CHECK_SETTING = 'RAY_CONNECT_PEER_CHECK';

export interface PeerCheckDeps {
  /** Reads a /proc file (default: fs). */
  readFile?: (path: string) => Promise<string>;
  platform?: NodeJS.Platform;
  /** Our uid (default process.getuid()). */
  uid?: number;
  env?: Record<string, string | undefined>;
  logger: Logger;
}

const TIME_WAIT = '06';

/**
 * The /proc/net/tcp{,6} address form of `address:port`: the address as the kernel prints it (%08X of each
 * 32-bit word as stored in memory, so byte order is the host's), the port as %04X. IPv4 gives the tcp form;
 * `v6: true` gives the tcp6 form (IPv4 as `::ffff:a.b.c.d`). undefined for what is not an IP address.
 */
export function procAddress(address: string, port: number, v6: boolean): string | undefined {
  const bytes = ipBytes(address);
  if (!bytes) return undefined;
  let b = bytes;
  if (v6 && b.length === 4) b = Buffer.concat([Buffer.alloc(10), Buffer.from([0xff, 0xff]), b]);
  if (!v6 && b.length === 16) {
    if (!isMappedV4(b)) return undefined;
    b = b.subarray(12);
  }
  let hex = '';
  const le = endianness() === 'LE';
  for (let i = 0; i < b.length; i += 4) {
    const word = le ? b.readUInt32LE(i) : b.readUInt32BE(i);
    hex += word.toString(16).toUpperCase().padStart(8, '0');
  }
  return `${hex}:${port.toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * The uid owning the socket whose local end is `local` and remote end `remote` (both in procAddress form) in the
 * text of /proc/net/tcp or tcp6. Rows in TIME_WAIT (owned by no process, uid 0) are skipped. undefined: no row.
 */
export function findSocketUid(table: string, local: string, remote: string): number | undefined {
  const needle = `: ${local} ${remote} `;
  for (let at = table.indexOf(needle); at >= 0; at = table.indexOf(needle, at + 1)) {
    const end = table.indexOf('\n', at);
    const fields = table
      .slice(at + needle.length, end < 0 ? undefined : end)
      .trim()
      .split(/\s+/);
    // st tx_queue:rx_queue tr:tm->when retrnsmt uid ...
    if (fields[0] === TIME_WAIT) continue;
    const uid = Number(fields[4]);
    if (Number.isInteger(uid) && uid >= 0) return uid;
  }
  return undefined;
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
  const read = deps.readFile ?? ((p: string) => readFile(p, 'latin1'));
  let warned = false;
  const unreadable = (e: unknown) => {
    if (warned) return;
    warned = true;
    logger.warn(
      `Local forwards refuse every connection: /proc/net/tcp is unreadable (${e instanceof Error ? e.message : String(e)}), so the connecting user cannot be checked. Set ${PEER_CHECK_SETTING}=off to accept every local user`,
    );
  };
  return async (socket) => {
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
        owner = findSocketUid(await read(v6 ? '/proc/net/tcp6' : '/proc/net/tcp'), local, remote);
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

function isMappedV4(b: Buffer): boolean {
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return false;
  return b[10] === 0xff && b[11] === 0xff;
}

/** 4 bytes (IPv4) or 16 bytes (IPv6, with `::` and an IPv4 tail), or undefined. */
function ipBytes(address: string): Buffer | undefined {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(address);
  if (v4) {
    const parts = v4.slice(1).map(Number);
    return parts.every((n) => n <= 255) ? Buffer.from(parts) : undefined;
  }
  if (!address.includes(':')) return undefined;
  let text = address.replace(/%.*$/, '');
  let tail: number[] = [];
  const dotted = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const four = ipBytes(dotted[2] ?? '');
    if (!four) return undefined;
    tail = [...four];
    text = (dotted[1] ?? '') + '0:0';
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const words = (s: string | undefined) => (s ? s.split(':') : []);
  const head = words(halves[0]);
  const rest = words(halves[1]);
  const missing = 8 - head.length - rest.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const all = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...rest];
  const out = Buffer.alloc(16);
  for (let i = 0; i < 8; i++) {
    const w = all[i] ?? '';
    if (!/^[0-9a-fA-F]{1,4}$/.test(w)) return undefined;
    out.writeUInt16BE(parseInt(w, 16), i * 2);
  }
  if (tail.length) out.set(tail, 12);
  return out;
}
