import { createServer, type IncomingMessage, type Server } from 'node:http';
import { connect as tcpConnect, type Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

/**
 * A fake API server for tests that speaks the kubelet's port-forward websocket protocol (v4.channel.k8s.io):
 * each websocket gets the port header on channels 0 and 1, then bytes on channel 0 are piped to a local TCP
 * backend standing in for the pod. Unknown pods answer 404; `failNext` sends an error-channel message.
 */
export class FakePortForwardServer {
  /** pod name -> (pod port -> local backend port) */
  readonly pods = new Map<string, Map<number, number>>();
  readonly sockets = new Set<WebSocket>();
  opened = 0;
  errorOnNext: string | undefined;
  private http: Server | undefined;
  private wss: WebSocketServer | undefined;

  async start(): Promise<string> {
    this.wss = new WebSocketServer({
      noServer: true,
      handleProtocols: (p) => (p.has('v4.channel.k8s.io') ? 'v4.channel.k8s.io' : false),
    });
    this.http = createServer((_req, res) => res.writeHead(404).end());
    this.http.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
      const m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/portforward\?ports=(\d+)$/.exec(
        req.url ?? '',
      );
      const backend = m ? this.pods.get(decodeURIComponent(m[2] ?? ''))?.get(Number(m[3])) : undefined;
      if (!m || backend === undefined) {
        socket.end('HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
        return;
      }
      this.wss?.handleUpgrade(req, socket, head, (ws) => this.serve(ws, Number(m[3]), backend));
    });
    await new Promise<void>((r) => this.http?.listen(0, '127.0.0.1', () => r()));
    const address = this.http.address();
    return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  }

  private serve(ws: WebSocket, port: number, backend: number): void {
    this.opened += 1;
    this.sockets.add(ws);
    ws.on('close', () => this.sockets.delete(ws));
    const header = (channel: number) => Buffer.from([channel, port & 0xff, port >> 8]);
    ws.send(header(0));
    ws.send(header(1));
    if (this.errorOnNext !== undefined) {
      ws.send(Buffer.concat([Buffer.from([1]), Buffer.from(this.errorOnNext)]));
      this.errorOnNext = undefined;
      ws.close();
      return;
    }
    const tcp = tcpConnect(backend, '127.0.0.1');
    tcp.on('data', (d: Buffer) => ws.send(Buffer.concat([Buffer.from([0]), d])));
    tcp.on('end', () => ws.close());
    tcp.on('error', () => ws.terminate());
    ws.on('message', (d: Buffer) => {
      if (d[0] === 0) tcp.write(d.subarray(1));
    });
    ws.on('close', () => tcp.destroy());
  }

  /** Closes every open port-forward websocket, as when the pod dies. */
  dropAll(): void {
    for (const ws of this.sockets) ws.terminate();
  }

  async stop(): Promise<void> {
    this.dropAll();
    this.wss?.close();
    await new Promise<void>((r) => (this.http ? this.http.close(() => r()) : r()));
  }
}
