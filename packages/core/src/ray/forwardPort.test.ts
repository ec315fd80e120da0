import { createServer, request, type Server } from 'node:http';
import { connect, createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RayConnectError } from '../errors.js';
import { silentLogger } from '../ports/Logger.js';
import { FakeKubeClient } from './fakeKubeClient.js';
import { FakePortForwardServer } from './fakePortForwardServer.js';
import { forwardPort, type PortForward } from './forwardPort.js';
import { openPortForward } from './openPortForward.js';
import { createPeerCheck, type PeerCheck } from './peerCheck.js';

let api: FakePortForwardServer;
let kube: FakeKubeClient;
let backend: Server;
let echo: TcpServer;
let forwards: PortForward[] = [];
const errors: RayConnectError[] = [];

const listen = (s: Server | TcpServer) =>
  new Promise<number>((r) => s.listen(0, '127.0.0.1', () => r((s.address() as { port: number }).port)));

beforeEach(async () => {
  api = new FakePortForwardServer();
  kube = new FakeKubeClient(await api.start());
  backend = createServer((req, res) => {
    if (req.url === '/big') {
      res.end(Buffer.alloc(5 * 1024 * 1024, 7));
      return;
    }
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ path: req.url }));
  });
  echo = createTcpServer((s) => s.pipe(s));
  api.pods.set(
    'head-1',
    new Map([
      [8265, await listen(backend)],
      [10001, await listen(echo)],
    ]),
  );
  errors.length = 0;
});

afterEach(async () => {
  for (const f of forwards) await f.close();
  forwards = [];
  await api.stop();
  backend.closeAllConnections();
  await new Promise((r) => backend.close(r));
  await new Promise((r) => echo.close(r));
});

async function start(
  remotePort: number,
  pod = 'head-1',
  localPort?: number,
  allowPeer?: PeerCheck,
): Promise<PortForward> {
  const f = await forwardPort(
    { label: 'test', remotePort, ...(localPort !== undefined && { localPort }) },
    {
      target: async () => pod,
      open: (p, port) => openPortForward(kube, 'ns', p, port),
      onStreamError: (_pod, e) => errors.push(e),
      logger: silentLogger,
      ...(allowPeer && { allowPeer }),
    },
  );
  forwards.push(f);
  return f;
}

function get(port: number, path: string): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
    })
      .on('error', reject)
      .end();
  });
}

function closed(socket: Socket): Promise<boolean> {
  return new Promise((r) => socket.on('close', (hadError) => r(hadError)));
}

describe('forwardPort over v4.channel.k8s.io', () => {
  it('listens on 127.0.0.1 only and forwards HTTP', async () => {
    const f = await start(8265);
    expect(f.localPort).toBeGreaterThan(0);
    const r = await get(f.localPort, '/api/version');
    expect(JSON.parse(r.body.toString())).toEqual({ path: '/api/version' });
  });

  it('forwards 5 MB intact', async () => {
    const f = await start(8265);
    const r = await get(f.localPort, '/big');
    expect(r.body.length).toBe(5 * 1024 * 1024);
    expect(r.body.every((b) => b === 7)).toBe(true);
  });

  it('serves 100 concurrent requests, one websocket each', async () => {
    const f = await start(8265);
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => get(f.localPort, `/r/${i}`)));
    expect(results.map((r) => JSON.parse(r.body.toString()).path)).toEqual(
      Array.from({ length: 100 }, (_, i) => `/r/${i}`),
    );
    expect(api.opened).toBe(100);
  });

  it('echoes raw bytes both ways', async () => {
    const f = await start(10001);
    const s = connect(f.localPort, '127.0.0.1');
    const got: Buffer[] = [];
    const payload = Buffer.from(Array.from({ length: 256 * 1024 }, (_, i) => i % 256));
    await new Promise<void>((resolve) => {
      s.on('data', (d: Buffer) => {
        got.push(d);
        if (Buffer.concat(got).length >= payload.length) resolve();
      });
      s.write(payload);
    });
    expect(Buffer.concat(got).equals(payload)).toBe(true);
    s.destroy();
  });

  it('ends the local connection when the remote websocket closes', async () => {
    const f = await start(10001);
    const s = connect(f.localPort, '127.0.0.1');
    s.write('hi');
    await new Promise((r) => s.once('data', r));
    const done = closed(s);
    api.dropAll();
    await done;
    expect(s.destroyed).toBe(true);
  });

  it('closes the websocket when the local client closes', async () => {
    const f = await start(10001);
    const s = connect(f.localPort, '127.0.0.1');
    s.write('hi');
    await new Promise((r) => s.once('data', r));
    expect(api.sockets.size).toBe(1);
    s.destroy();
    await expect.poll(() => api.sockets.size).toBe(0);
  });

  it('resets the local connection and reports an error-channel message', async () => {
    const f = await start(10001);
    api.errorOnNext = 'error forwarding port 10001 to pod head-1: connection refused';
    const s = connect(f.localPort, '127.0.0.1');
    s.on('error', () => undefined);
    await closed(s);
    expect(errors[0]?.code).toBe('PORT_FORWARD_FAILED');
    expect(errors[0]?.message).toMatch(/connection refused/);
  });

  it('reports a missing pod (404) and closes the local connection', async () => {
    const f = await start(8265, 'gone');
    const s = connect(f.localPort, '127.0.0.1');
    s.on('error', () => undefined);
    await closed(s);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors[0]?.message).toMatch(/gone/);
  });

  it('says PORT_IN_USE for a taken fixed port, and nothing listens after close', async () => {
    const f = await start(8265);
    await expect(start(8265, 'head-1', f.localPort)).rejects.toMatchObject({ code: 'PORT_IN_USE' });
    await f.close();
    const s = connect(f.localPort, '127.0.0.1');
    const error = await new Promise<NodeJS.ErrnoException>((r) => s.on('error', r));
    expect(error.code).toBe('ECONNREFUSED');
  });

  it('a refused peer is closed with no bytes and nothing is opened upstream; the owner is served', async () => {
    const refuse = await start(10001, 'head-1', undefined, () => Promise.resolve(false));
    const s = connect(refuse.localPort, '127.0.0.1');
    const got: Buffer[] = [];
    s.on('data', (d: Buffer) => got.push(d));
    s.on('error', () => undefined);
    s.write('hello');
    await closed(s);
    expect(Buffer.concat(got).length).toBe(0);
    expect(api.opened).toBe(0);
    if (process.platform !== 'linux') return;
    // the real check (this host's /proc): our own connection passes
    const own = await start(8265, 'head-1', undefined, createPeerCheck({ logger: silentLogger, env: {} }));
    const r = await get(own.localPort, '/api/version');
    expect(JSON.parse(r.body.toString())).toEqual({ path: '/api/version' });
  });
});
