import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeKubeClient } from './fakeKubeClient.js';
import { openPortForward, PORT_FORWARD_PROTOCOL } from './openPortForward.js';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** An API server stand-in whose upgrade answer each test chooses. */
const upgraded = new Set<Socket>();

async function apiServer(
  answer: (req: IncomingMessage, socket: Socket) => void,
): Promise<{ server: Server; url: string }> {
  const server = createServer((_req, res) => res.writeHead(500).end());
  server.on('upgrade', (req: IncomingMessage, socket: Socket) => {
    upgraded.add(socket);
    answer(req, socket);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  return { server, url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}` };
}

function switchProtocols(req: IncomingMessage, socket: Socket, overrides: Record<string, string> = {}) {
  const accept = createHash('sha1')
    .update(String(req.headers['sec-websocket-key']) + GUID)
    .digest('base64');
  const headers = {
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Accept': accept,
    'Sec-WebSocket-Protocol': PORT_FORWARD_PROTOCOL,
    ...overrides,
  };
  socket.write(
    `HTTP/1.1 101 Switching Protocols\r\n${Object.entries(headers)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('')}\r\n`,
  );
}

describe('openPortForward handshake', () => {
  let server: Server | undefined;
  afterEach(async () => {
    for (const socket of upgraded) socket.destroy();
    upgraded.clear();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    server = undefined;
  });

  it('offers v4.channel.k8s.io with the credentials, and opens on a correct answer', async () => {
    let seen: IncomingMessage | undefined;
    const api = await apiServer((req, socket) => {
      seen = req;
      switchProtocols(req, socket);
    });
    server = api.server;
    const kube = new FakeKubeClient(api.url);
    kube.wsOptions = { headers: { Authorization: 'Bearer t0k3n' }, rejectUnauthorized: true };
    const stream = await openPortForward(kube, 'ns', 'head-0', 8265);
    expect(stream.isOpen).toBe(true);
    expect(seen?.url).toBe('/api/v1/namespaces/ns/pods/head-0/portforward?ports=8265');
    expect(seen?.headers['sec-websocket-protocol']).toBe(PORT_FORWARD_PROTOCOL);
    expect(seen?.headers.authorization).toBe('Bearer t0k3n');
    stream.destroy();
  });

  it.each([
    [403, 'ACCESS_DENIED', /may not port-forward to pods in namespace ns/],
    [401, 'TOKEN_EXPIRED', /rejected your credentials/],
    [404, 'PORT_FORWARD_FAILED', /ns\/head-0 is gone/],
    [500, 'PORT_FORWARD_FAILED', /answered 500/],
  ])('an HTTP %i answer is %s', async (status, code, message) => {
    const api = await apiServer((_req, socket) =>
      socket.end(`HTTP/1.1 ${status} No\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`),
    );
    server = api.server;
    await expect(openPortForward(new FakeKubeClient(api.url), 'ns', 'head-0', 8265)).rejects.toMatchObject({
      code,
      message: expect.stringMatching(message),
    });
  });

  it('refuses a wrong Sec-WebSocket-Accept and another protocol', async () => {
    for (const overrides of [
      { 'Sec-WebSocket-Accept': 'bm9wZQ==' },
      { 'Sec-WebSocket-Protocol': 'base64.channel.k8s.io' },
    ]) {
      const api = await apiServer((req, socket) => switchProtocols(req, socket, overrides));
      server = api.server;
      await expect(openPortForward(new FakeKubeClient(api.url), 'ns', 'head-0', 1)).rejects.toMatchObject({
        code: 'PORT_FORWARD_FAILED',
        message: expect.stringMatching(/answered port-forward to pod ns\/head-0 port 1 with/),
      });
      for (const socket of upgraded) socket.destroy();
      await new Promise<void>((r) => api.server.close(() => r()));
    }
    server = undefined;
  });

  it('an abort while waiting is a cancel, and an unreachable server says so', async () => {
    const api = await apiServer(() => undefined); // never answers
    server = api.server;
    const controller = new AbortController();
    const pending = openPortForward(new FakeKubeClient(api.url), 'ns', 'head-0', 1, controller.signal);
    setTimeout(() => controller.abort(), 50);
    await expect(pending).rejects.toMatchObject({ message: expect.stringMatching(/was cancelled/) });
    await expect(
      openPortForward(new FakeKubeClient('http://127.0.0.1:1'), 'ns', 'head-0', 1),
    ).rejects.toMatchObject({ code: 'CLUSTER_UNREACHABLE' });
  });
});
