// The port-forward data path (v4.channel.k8s.io, our own websocket client) against the sandbox's real
// kube-apiserver and kwok: a kwok pod whose ports forward to local servers in our own namespace; 100 concurrent
// requests, a 20 MB download and a 20 MB upload with exact bodies; the target closing -> the local connection
// closes; the kubelet's error channel -> the local connection is reset and the error reported.
import { createHash } from 'node:crypto';
import { createServer as createHttpServer, request, type Server as HttpServer } from 'node:http';
import { connect, createServer as createNetServer, type Server as NetServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createKubeClientFromContext,
  forwardPort,
  loadKubeconfig,
  nodeReadTextFile,
  openPortForward,
  silentLogger,
  type KubeClient,
  type PortForward,
} from '../../../packages/core/src/index.js';
import { kubectl } from '../../sandbox/client.mjs';
import { sandbox, tempDir } from './helpers.js';

const NS = 'rc-forward-it';
const POD = 'forward-target';
const HTTP_PORT = 8080;
const CLOSE_PORT = 9090;
const BULK = 20 * 1024 * 1024;

function bulkBody(): Buffer {
  const b = Buffer.alloc(BULK);
  for (let i = 0; i < BULK; i += 4) b.writeUInt32LE((i * 2654435761) >>> 0, i);
  return b;
}

function get(port: number, path: string): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

async function listen(server: HttpServer | NetServer): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address();
  if (!a || typeof a === 'string') throw new Error('no address');
  return a.port;
}

async function must(args: string[], input?: string): Promise<string> {
  const r = (await kubectl(args, input === undefined ? {} : { input })) as {
    code: number;
    stdout: string;
    stderr: string;
  };
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

describe('port-forward bytes through the real apiserver to a kwok pod', () => {
  const body = bulkBody();
  let http: HttpServer;
  let closer: NetServer;
  let kube: KubeClient;
  const forwards: PortForward[] = [];
  const streamErrors: string[] = [];

  const forward = (remotePort: number) =>
    forwardPort(
      { remotePort, label: `it ${remotePort}` },
      {
        target: () => Promise.resolve(POD),
        open: (pod, port) => openPortForward(kube, NS, pod, port),
        onStreamError: (_pod, e) => streamErrors.push(e.message),
        logger: silentLogger,
      },
    ).then((f) => (forwards.push(f), f));

  beforeAll(async () => {
    http = createHttpServer((req, res) => {
      if (req.url === '/bulk') {
        res.writeHead(200, { 'content-length': String(BULK) });
        res.end(body);
      } else if (req.url === '/upload') {
        const hash = createHash('sha256');
        let n = 0;
        req.on('data', (c: Buffer) => ((n += c.length), hash.update(c)));
        req.on('end', () => res.end(`${n} ${hash.digest('hex')}`));
      } else res.end(`hello ${req.url}`);
    });
    closer = createNetServer((socket) => socket.end('bye\n'));
    const [httpPort, closePort] = [await listen(http), await listen(closer)];
    const nodes = JSON.parse(await must(['get', 'nodes', '-o', 'json'])) as {
      items: { metadata: { name: string; annotations?: Record<string, string> } }[];
    };
    const node = (nodes.items.find((n) => n.metadata.annotations?.['kwok.x-k8s.io/node']) ?? nodes.items[0])
      ?.metadata.name;
    const objects = {
      apiVersion: 'v1',
      kind: 'List',
      items: [
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } },
        {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: POD, namespace: NS },
          spec: {
            nodeName: node,
            containers: [
              {
                name: 'target',
                image: 'rc/forward-target',
                ports: [{ containerPort: HTTP_PORT }, { containerPort: CLOSE_PORT }],
              },
            ],
            tolerations: [{ operator: 'Exists' }],
          },
        },
        {
          apiVersion: 'kwok.x-k8s.io/v1alpha1',
          kind: 'PortForward',
          metadata: { name: POD, namespace: NS },
          spec: {
            forwards: [
              { ports: [HTTP_PORT], target: { address: '127.0.0.1', port: httpPort } },
              { ports: [CLOSE_PORT], target: { address: '127.0.0.1', port: closePort } },
            ],
          },
        },
      ],
    };
    await must(
      ['apply', '--server-side', '--force-conflicts', '--field-manager=rc-forward-it', '-f', '-'],
      JSON.stringify(objects),
    );
    await must(['-n', NS, 'wait', '--for=condition=Ready', `pod/${POD}`, '--timeout=60s']);
    const file = sandbox().adminKubeconfig;
    const view = await loadKubeconfig({
      env: { KUBECONFIG: file },
      homedir: tempDir('rc-home-'),
      readFile: nodeReadTextFile,
      explicitPath: file,
    });
    kube = await createKubeClientFromContext(view, undefined, { logger: silentLogger });
  }, 120_000);

  afterAll(async () => {
    for (const f of forwards) await f.close();
    http?.close();
    closer?.close();
    await kubectl([
      '-n',
      NS,
      'delete',
      `pod/${POD}`,
      `portforward.kwok.x-k8s.io/${POD}`,
      '--ignore-not-found',
      '--wait=false',
      '--grace-period=0',
      '--force',
    ]);
  });

  it('100 concurrent requests, each with its exact body', async () => {
    const f = await forward(HTTP_PORT);
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => get(f.localPort, `/r${i}`)));
    results.forEach((r, i) => {
      expect(r.status).toBe(200);
      expect(r.body.toString()).toBe(`hello /r${i}`);
    });
    expect(streamErrors).toEqual([]);
  }, 60_000);

  it('a 20 MB download arrives byte for byte', async () => {
    const f = forwards[0] ?? (await forward(HTTP_PORT));
    const r = await get(f.localPort, '/bulk');
    expect(r.status).toBe(200);
    expect(r.body.length).toBe(BULK);
    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    expect(sha(r.body)).toBe(sha(body));
  }, 120_000);

  it('a reader that stops for a while still gets every byte (backpressure both ways)', async () => {
    const f = forwards[0] ?? (await forward(HTTP_PORT));
    const got = await new Promise<Buffer>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: f.localPort, path: '/bulk', agent: false }, (res) => {
        const chunks: Buffer[] = [];
        let stopped = false;
        res.on('data', (c: Buffer) => {
          chunks.push(c);
          if (!stopped) {
            stopped = true;
            res.pause();
            setTimeout(() => res.resume(), 1500);
          }
        });
        res.on('end', () => resolve(Buffer.concat(chunks)));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    expect(got.length).toBe(BULK);
    expect(sha(got)).toBe(sha(body));
  }, 120_000);

  it('a 20 MB upload arrives byte for byte', async () => {
    const f = forwards[0] ?? (await forward(HTTP_PORT));
    const answer = await new Promise<string>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: f.localPort, path: '/upload', method: 'POST', agent: false },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve(text));
        },
      );
      req.on('error', reject);
      for (let i = 0; i < BULK; i += 65_536) req.write(body.subarray(i, i + 65_536));
      req.end();
    });
    expect(answer).toBe(`${BULK} ${createHash('sha256').update(body).digest('hex')}`);
  }, 120_000);

  // kwok's forwarder (utilsnet.Tunnel) ends a stream only when both directions have ended, so a target's close
  // reaches the client as data, then the stream ends once the client has finished too (kubectl sees the same).
  it("the target's last bytes arrive and a client FIN closes the stream on both sides", async () => {
    const f = await forward(CLOSE_PORT);
    const got = await new Promise<string>((resolve, reject) => {
      const s = connect({ port: f.localPort, host: '127.0.0.1', allowHalfOpen: true });
      let text = '';
      s.on('data', (c: Buffer) => {
        text += c.toString();
        if (text === 'bye\n') s.end();
      });
      s.on('error', reject);
      s.on('close', () => resolve(text));
    });
    expect(got).toBe('bye\n');
    expect(streamErrors).toEqual([]);
    await expect.poll(() => f.connections, { timeout: 10_000 }).toBe(0);
  }, 60_000);

  it("the kubelet's error stream reaches the client: a port without a forward resets the local connection", async () => {
    const f = await forward(7070);
    const before = streamErrors.length;
    const outcome = await new Promise<string>((resolve) => {
      const s = connect(f.localPort, '127.0.0.1');
      s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
      s.on('close', () => resolve('closed'));
      s.write('hello');
    });
    expect(['ECONNRESET', 'closed']).toContain(outcome);
    expect(streamErrors.slice(before).join('\n')).toMatch(/7070/);
  }, 60_000);
});
