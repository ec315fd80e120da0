import { open } from 'node:fs/promises';
import { endianness } from 'node:os';
import { performance } from 'node:perf_hooks';

// Reading /proc/net/tcp and tcp6: address forms, finding a socket's row, scanning the table once for many lookups.

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

/** A /proc/net/tcp-style file as it is read: the kernel hands out one page (~27 rows) per read. */
export type ReadChunks = (path: string) => AsyncIterable<string>;

export async function* readProcChunks(path: string): AsyncIterable<string> {
  const file = await open(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(64 * 1024);
    for (;;) {
      const { bytesRead } = await file.read(buf, 0, buf.length, null);
      if (!bytesRead) return;
      yield buf.toString('latin1', 0, bytesRead);
    }
  } finally {
    await file.close();
  }
}

interface Lookup {
  local: string;
  remote: string;
  resolve(uid: number | undefined): void;
}

interface Scan {
  startedAt: number;
  /** The whole lines read so far, one string per read (for lookups that join later). */
  read: string[];
  /** A line cut by the end of the last read. */
  partial: string;
  done: boolean;
  lookups: Lookup[];
}

/**
 * Finds socket owners in one table without reading it whole for every connection: the read stops as soon as every
 * lookup has its row (on average half the table), and a lookup for a socket accepted before a running scan started
 * joins that scan (its row was in the table when the scan began), so a burst of connections costs one pass.
 * A row the scan did not meet -> undefined (refused).
 */
export class ProcTableScanner {
  private current: Scan | undefined;

  constructor(
    private readonly path: string,
    private readonly readChunks: ReadChunks = readProcChunks,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** `acceptedAt`: when the socket was accepted (this.now() clock). */
  lookup(local: string, remote: string, acceptedAt = this.now()): Promise<number | undefined> {
    return new Promise((resolve, reject) => {
      const scan = this.current;
      if (scan && !scan.done && scan.startedAt >= acceptedAt) {
        for (const lines of scan.read) {
          const uid = findSocketUid(lines, local, remote);
          if (uid !== undefined) return resolve(uid);
        }
        scan.lookups.push({ local, remote, resolve });
        return;
      }
      const next: Scan = { startedAt: this.now(), read: [], partial: '', done: false, lookups: [] };
      next.lookups.push({ local, remote, resolve });
      this.current = next;
      this.run(next).catch((e: unknown) => {
        next.done = true;
        reject(e);
        for (const l of next.lookups.splice(0)) l.resolve(undefined);
      });
    });
  }

  private async run(scan: Scan): Promise<void> {
    for await (const chunk of this.readChunks(this.path)) {
      // whole lines only (a row is matched whole, never across the edge of a read); no growing string is searched
      // again: each read's lines are searched once per lookup
      const end = chunk.lastIndexOf('\n') + 1;
      if (end === 0) {
        scan.partial += chunk;
        continue;
      }
      const lines = scan.partial + chunk.slice(0, end);
      scan.partial = chunk.slice(end);
      scan.read.push(lines);
      scan.lookups = scan.lookups.filter((l) => {
        const uid = findSocketUid(lines, l.local, l.remote);
        if (uid === undefined) return true;
        l.resolve(uid);
        return false;
      });
      if (!scan.lookups.length) break;
    }
    scan.done = true;
    for (const l of scan.lookups.splice(0)) l.resolve(undefined);
  }
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
