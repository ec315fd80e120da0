import { connect, createServer, type Server, type Socket } from 'node:net';
import { endianness } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryLogger } from '../ports/Logger.js';
import { createPeerCheck } from './peerCheck.js';
import { findSocketUid, procAddress, ProcTableScanner } from './procNet.js';

const le = endianness() === 'LE';
const HEADER =
  '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
// Client 127.0.0.1:45678 (B26E) -> listener 127.0.0.1:8265 (2049), the listener's accepted socket, a TIME_WAIT row.
const TCP =
  HEADER +
  '   0: 0100007F:2049 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 111 1 0 100 0 0 10 0\n' +
  '   1: 0100007F:B26E 0100007F:2049 01 00000000:00000000 00:00000000 00000000  1001        0 222 1 0 20 4 30 10 -1\n' +
  '   2: 0100007F:2049 0100007F:B26E 01 00000000:00000000 00:00000000 00000000  1000        0 333 1 0 20 4 30 10 -1\n' +
  '   3: 0100007F:C000 0100007F:2049 06 00000000:00000000 03:00001770 00000000     0        0 0 3 0\n';

describe('procAddress', () => {
  it.skipIf(!le)('prints IPv4 as the kernel does on little-endian hosts', () => {
    expect(procAddress('127.0.0.1', 8265, false)).toBe('0100007F:2049');
    expect(procAddress('10.1.2.3', 1, false)).toBe('0302010A:0001');
  });
  it.skipIf(!le)('maps IPv4 into the tcp6 form, and reads the mapped form back', () => {
    expect(procAddress('127.0.0.1', 10001, true)).toBe('0000000000000000FFFF00000100007F:2711');
    expect(procAddress('::ffff:127.0.0.1', 10001, true)).toBe('0000000000000000FFFF00000100007F:2711');
    expect(procAddress('::ffff:127.0.0.1', 10001, false)).toBe('0100007F:2711');
    expect(procAddress('::1', 80, true)).toBe('00000000000000000000000001000000:0050');
  });
  it('gives no tcp form for a real IPv6 address, and nothing for junk', () => {
    expect(procAddress('::1', 80, false)).toBeUndefined();
    expect(procAddress('fe80::1::2', 80, true)).toBeUndefined();
    expect(procAddress('localhost', 80, false)).toBeUndefined();
    expect(procAddress('300.0.0.1', 80, false)).toBeUndefined();
  });
});

describe('findSocketUid', () => {
  it('finds the client row by its local and remote ends and reads its uid', () => {
    expect(findSocketUid(TCP, '0100007F:B26E', '0100007F:2049')).toBe(1001);
    expect(findSocketUid(TCP, '0100007F:2049', '0100007F:B26E')).toBe(1000);
  });
  it('no row, or only a TIME_WAIT row (uid 0, no process) -> undefined', () => {
    expect(findSocketUid(TCP, '0100007F:B26F', '0100007F:2049')).toBeUndefined();
    expect(findSocketUid(TCP, '0100007F:C000', '0100007F:2049')).toBeUndefined();
    expect(findSocketUid('', '0100007F:B26E', '0100007F:2049')).toBeUndefined();
  });
  it('reads tcp6 rows of an IPv6 client connecting to the IPv4 address', () => {
    const tcp6 =
      '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n' +
      '   0: 0000000000000000FFFF00000100007F:B26E 0000000000000000FFFF00000100007F:2711 01 00000000:00000000 00:00000000 00000000 65534        0 444 1 0 20 4 30 10 -1\n';
    expect(
      findSocketUid(tcp6, '0000000000000000FFFF00000100007F:B26E', '0000000000000000FFFF00000100007F:2711'),
    ).toBe(65534);
  });
});

/** The table as the kernel hands it out: `size`-character pieces (a page is ~27 rows). */
async function* chunks(table: string, size = 100): AsyncIterable<string> {
  for (let i = 0; i < table.length; i += size) {
    await Promise.resolve();
    yield table.slice(i, i + size);
  }
}

// eslint-disable-next-line require-yield
async function* failing(e: Error): AsyncIterable<string> {
  throw e;
}

function fakeSocket(peerPort: number, ownPort: number): Socket {
  return {
    remoteAddress: '127.0.0.1',
    remotePort: peerPort,
    localAddress: '127.0.0.1',
    localPort: ownPort,
  } as Socket;
}

describe('ProcTableScanner', () => {
  it('finds rows split across reads, and stops reading once every lookup has its row', async () => {
    let pieces = 0;
    const read = async function* () {
      for await (const c of chunks(TCP, 37)) {
        pieces += 1;
        yield c;
      }
    };
    const scanner = new ProcTableScanner('/proc/net/tcp', read);
    expect(await scanner.lookup('0100007F:B26E', '0100007F:2049')).toBe(1001);
    const early = pieces;
    expect(early).toBeLessThan(Math.ceil(TCP.length / 37));
    expect(await scanner.lookup('0100007F:B26F', '0100007F:2049')).toBeUndefined();
  });

  it('a lookup for a socket accepted before a running scan started joins it: one pass for a burst', async () => {
    let passes = 0;
    const read = () => (passes++, chunks(TCP, 40));
    let t = 0;
    const scanner = new ProcTableScanner('/proc/net/tcp', read, () => t);
    t = 10;
    // accepted at 5 and 6, the scan starts at 10: both rows were there when it began
    const a = scanner.lookup('0100007F:2049', '0100007F:B26E', 5);
    const b = scanner.lookup('0100007F:B26E', '0100007F:2049', 6);
    expect(await Promise.all([a, b])).toEqual([1000, 1001]);
    expect(passes).toBe(1);
    // accepted after the scan started (its row may have been passed already): a new pass
    expect(await scanner.lookup('0100007F:B26E', '0100007F:2049', 11)).toBe(1001);
    expect(passes).toBe(2);
  });
});

describe.skipIf(!le)('createPeerCheck (tables given)', () => {
  it('allows our uid, refuses another (logged with the uid), refuses when no row matches', async () => {
    const logger = new MemoryLogger();
    const reads: string[] = [];
    const check = createPeerCheck({
      platform: 'linux',
      uid: 1001,
      env: {},
      logger,
      readChunks: (p) => (reads.push(p), chunks(p.endsWith('6') ? HEADER : TCP)),
    });
    expect(await check(fakeSocket(0xb26e, 8265))).toBe(true);
    expect(reads).toEqual(['/proc/net/tcp']); // one read when the client is an IPv4 socket
    const other = createPeerCheck({
      platform: 'linux',
      uid: 1000,
      env: {},
      logger,
      readChunks: () => chunks(TCP),
    });
    expect(await other(fakeSocket(0xb26e, 8265))).toBe(false);
    expect(logger.lines.some((l) => l.level === 'debug' && l.fields?.uid === 1001)).toBe(true);
    reads.length = 0;
    expect(await check(fakeSocket(0xb26f, 8265))).toBe(false);
    expect(reads).toEqual(['/proc/net/tcp', '/proc/net/tcp6']);
  });

  it('fails closed when /proc is unreadable, with one warning naming the setting', async () => {
    const logger = new MemoryLogger();
    const check = createPeerCheck({
      platform: 'linux',
      uid: 0,
      env: {},
      logger,
      readChunks: () => failing(new Error('ENOENT: no such file')),
    });
    expect(await check(fakeSocket(1, 2))).toBe(false);
    expect(await check(fakeSocket(1, 2))).toBe(false);
    const warnings = logger.lines.filter((l) => l.level === 'warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.message).toContain('RAY_CONNECT_PEER_CHECK=off');
  });

  it('RAY_CONNECT_PEER_CHECK=off and non-Linux hosts allow everyone (said once)', async () => {
    const logger = new MemoryLogger();
    const readFile = () => Promise.reject(new Error('must not read'));
    const off = createPeerCheck({
      platform: 'linux',
      env: { RAY_CONNECT_PEER_CHECK: 'off' },
      logger,
      readFile,
    });
    const mac = createPeerCheck({ platform: 'darwin', env: {}, logger, readFile });
    expect(await off(fakeSocket(1, 2))).toBe(true);
    expect(await mac(fakeSocket(1, 2))).toBe(true);
    expect(logger.lines.map((l) => l.level)).toEqual(['warn', 'info']);
  });
});

describe.skipIf(process.platform !== 'linux')('createPeerCheck against this host /proc', () => {
  let server: Server | undefined;
  afterEach(() => server?.close());

  it('a real loopback connection of this process is ours; with another uid expected it is refused', async () => {
    const accepted = new Promise<Socket>((resolve) => {
      server = createServer(resolve);
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const client = connect((server!.address() as { port: number }).port, '127.0.0.1');
    const socket = await accepted;
    const logger = new MemoryLogger();
    expect(await createPeerCheck({ logger, env: {} })(socket)).toBe(true);
    const uid = process.getuid?.() ?? 0;
    expect(await createPeerCheck({ logger, env: {}, uid: uid + 1 })(socket)).toBe(false);
    client.destroy();
    socket.destroy();
  });
});
