// A private corner of the sandbox for fault injection: our own namespace `faults-<random>` with a RayCluster
// (auth off), a head pod on the kwok node and a kwok PortForward to a local fake Ray dashboard we run; and a TCP
// proxy in front of the shared kube-apiserver that we can stop, restart and cut (what a client sees when the API
// server goes away). Nothing in ray-demo is touched; the namespace is deleted at the end.
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { connect as netConnect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import {
  createRayConnect,
  FakeBrowser,
  MemoryLogger,
  MemorySecretStore,
  type RayConnect,
  systemClock,
} from '../../packages/core/src/index.js';
import { kubectl } from '../sandbox/client.mjs';
import { sandbox, tempDir } from './helpers.js';

export const NODE = 'kwok-node';

/** A TCP proxy to the API server: stop() refuses new connections and cuts open ones; start() listens again (same port). */
export class ApiProxy {
  port = 0;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  connections = 0;
  constructor(private readonly target: { host: string; port: number }) {}

  async start(): Promise<void> {
    const server = createServer((client) => {
      this.connections++;
      const upstream = netConnect(this.target.port, this.target.host);
      this.sockets.add(client);
      this.sockets.add(upstream);
      const done = () => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.on('error', done).on('close', done);
      upstream.on('error', done).on('close', done);
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as { port: number }).port;
    this.server = server;
  }

  /** Cuts every open connection (websockets included) but keeps listening. */
  cut(): void {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.cut();
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }
}

/**
 * An HTTP CONNECT proxy (what HTTPS_PROXY names) that we can stop, slow down and count: the identity provider
 * "down" (refused, open tunnels cut) or "slow" (every chunk from the provider held back `delayMs`) as the client
 * sees it, while the shared provider keeps running and keeps its issuer URL. Only 127.0.0.1 targets are allowed.
 */
export class ConnectProxy {
  port = 0;
  delayMs = 0;
  tunnels = 0;
  private server: HttpServer | undefined;
  private readonly sockets = new Set<Socket>();

  async start(): Promise<void> {
    const server = createHttpServer((_req, res) => res.writeHead(405).end());
    server.on('connect', (req, client: Socket, head: Buffer) => {
      const [host, port] = (req.url ?? '').split(':');
      if (host !== '127.0.0.1' || !port) return void client.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      this.tunnels++;
      const upstream = netConnect(Number(port), host);
      this.sockets.add(client);
      this.sockets.add(upstream);
      const done = () => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.on('error', done).on('close', done);
      upstream.on('error', done).on('close', done);
      upstream.once('connect', () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        if (head.length) upstream.write(head);
        client.pipe(upstream);
        upstream.on('data', (chunk: Buffer) => {
          if (this.delayMs <= 0) return void client.write(chunk);
          upstream.pause();
          setTimeout(() => {
            client.write(chunk);
            upstream.resume();
          }, this.delayMs);
        });
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as { port: number }).port;
    this.server = server;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Refuses new connections and cuts open tunnels. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }
}

/**
 * A fake Ray dashboard: the endpoints connect probes, plus /bytes?n= and /slow for transfers. Auth disabled unless
 * `token` is given: then it says `token` mode and, like Ray, answers 401 without a bearer token and 403 when
 * `token()` (read on every request, so a test can rotate it) does not match.
 */
export async function startFakeHead(options: { token?: () => string } = {}): Promise<{
  server: HttpServer;
  port: number;
  requests: () => number;
  close(): Promise<void>;
}> {
  let requests = 0;
  const server = createHttpServer((req, res) => {
    requests++;
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/api/authentication_mode')
      return void res.end(JSON.stringify({ authentication_mode: options.token ? 'token' : 'disabled' }));
    if (options.token) {
      const auth = req.headers.authorization;
      if (!auth?.startsWith('Bearer ')) return void res.writeHead(401).end('{"error":"no token"}');
      if (auth.slice(7) !== options.token()) return void res.writeHead(403).end('{"error":"wrong token"}');
    }
    if (url.pathname === '/api/version')
      return void res.end(JSON.stringify({ version: '4', ray_version: '2.59.0', ray_commit: 'x' }));
    if (url.pathname === '/bytes') {
      const n = Number(url.searchParams.get('n') ?? '1024');
      res.writeHead(200, { 'content-length': String(n) });
      return void res.end(Buffer.alloc(n, 'r'));
    }
    if (url.pathname === '/slow') {
      // streams forever in small chunks until the client goes away
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const t = setInterval(() => res.write(Buffer.alloc(1024, 's')), 20);
      res.on('close', () => clearInterval(t));
      return;
    }
    res.end('ok');
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    server,
    port,
    requests: () => requests,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

async function k(args: string[], input?: string): Promise<string> {
  const r = await kubectl(args, input === undefined ? {} : { input });
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

export interface World {
  namespace: string;
  cluster: string;
  headPod: string;
  head: Awaited<ReturnType<typeof startFakeHead>>;
  proxy: ApiProxy;
  kubeconfig: string;
  /** Deletes the head pod and creates it again (same name), waiting until kwok runs it. */
  recreatePod(): Promise<void>;
  deletePod(): Promise<void>;
  createPod(): Promise<void>;
  facade(logger?: MemoryLogger): RayConnect;
  dispose(): Promise<void>;
}

export async function createWorld(): Promise<World> {
  const s = sandbox();
  const namespace = `faults-${randomBytes(4).toString('hex')}`;
  const cluster = 'rc';
  const headPod = `${cluster}-head-abcde`;
  const head = await startFakeHead();
  const api = new URL(s.apiServer);
  const proxy = new ApiProxy({ host: api.hostname, port: Number(api.port) });
  await proxy.start();

  const admin = JSON.parse(readFileSync(s.adminKubeconfig, 'utf8')) as {
    clusters: { cluster: Record<string, unknown> }[];
    [k: string]: unknown;
  };
  for (const c of admin.clusters) c.cluster.server = `https://127.0.0.1:${proxy.port}`;
  for (const c of (admin.contexts as { context: Record<string, unknown> }[]) ?? [])
    c.context.namespace = namespace;
  const kubeconfig = join(tempDir('rc-faults-world-'), 'config');
  writeFileSync(kubeconfig, JSON.stringify(admin), { mode: 0o600 });

  const labels = {
    'ray.io/cluster': cluster,
    'ray.io/node-type': 'head',
    'ray.io/group': 'headgroup',
    'ray.io/is-ray-node': 'yes',
  };
  const ports = [
    { name: 'dashboard', containerPort: 8265 },
    { name: 'client', containerPort: 10001 },
    { name: 'gcs-server', containerPort: 6379 },
  ];
  const container = { name: 'ray-head', image: 'rayproject/ray:2.59.0', ports };
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: headPod, namespace, labels },
    spec: {
      nodeName: NODE,
      restartPolicy: 'Always',
      containers: [container],
      tolerations: [{ operator: 'Exists' }],
    },
  };
  await k(['create', 'namespace', namespace]);
  await k(
    ['apply', '-f', '-'],
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'List',
      items: [
        {
          apiVersion: 'kwok.x-k8s.io/v1alpha1',
          kind: 'PortForward',
          metadata: { name: headPod, namespace },
          spec: { forwards: [{ ports: [8265, 10001], target: { port: head.port, address: '127.0.0.1' } }] },
        },
        {
          apiVersion: 'ray.io/v1',
          kind: 'RayCluster',
          metadata: { name: cluster, namespace },
          spec: {
            rayVersion: '2.59.0',
            headGroupSpec: { rayStartParams: {}, template: { spec: { containers: [container] } } },
          },
        },
      ],
    }),
  );
  const createPod = async () => {
    await k(['create', '-f', '-'], JSON.stringify(pod));
    await waitFor(
      async () => {
        const r = await kubectl(['get', 'pod', headPod, '-n', namespace, '-o', 'jsonpath={.status.phase}']);
        return r.code === 0 && r.stdout.trim() === 'Running';
      },
      60_000,
      `pod ${headPod} Running`,
    );
  };
  const deletePod = async () => {
    await k(['delete', 'pod', headPod, '-n', namespace, '--wait=true', '--grace-period=0', '--force']);
  };
  await createPod();
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const status = {
    state: 'ready',
    head: { podName: headPod, serviceName: `${cluster}-head-svc` },
    endpoints: { dashboard: '8265', client: '10001', 'gcs-server': '6379' },
    conditions: [
      {
        type: 'HeadPodReady',
        status: 'True',
        reason: 'HeadPodRunningAndReady',
        message: '',
        lastTransitionTime: now,
      },
      {
        type: 'RayClusterProvisioned',
        status: 'True',
        reason: 'AllPodRunningAndReadyFirstTime',
        message: '',
        lastTransitionTime: now,
      },
    ],
  };
  await k([
    'patch',
    'rayclusters.ray.io',
    cluster,
    '-n',
    namespace,
    '--subresource=status',
    '--type=merge',
    '-p',
    JSON.stringify({ status }),
  ]);

  const facades: RayConnect[] = [];
  return {
    namespace,
    cluster,
    headPod,
    head,
    proxy,
    kubeconfig,
    deletePod,
    createPod,
    recreatePod: async () => {
      await deletePod();
      await createPod();
    },
    facade: (logger = new MemoryLogger()) => {
      const f = createRayConnect({
        store: new MemorySecretStore(),
        logger,
        clock: systemClock,
        browser: new FakeBrowser(),
        configDir: tempDir('rc-faults-cfg-'),
        env: { KUBECONFIG: kubeconfig },
        homedir: tempDir('rc-faults-home-'),
        version: 'faults',
        watchIntervalMs: 500,
      });
      facades.push(f);
      return f;
    },
    dispose: async () => {
      for (const f of facades) await f.close().catch(() => undefined);
      await deleteNamespace(namespace);
      await proxy.stop();
      await head.close();
    },
  };
}

export interface ExtraCluster {
  name: string;
  headPod: string;
  createPod(): Promise<void>;
  deletePod(): Promise<void>;
}

/**
 * Another RayCluster in our namespace: `spec.authOptions` as given, a head pod on `node` (default the sandbox's
 * kwok node; `null` = no node, so it stays Pending: the sandbox has no scheduler) with a kwok PortForward to a local
 * port, and a status saying ready (or, with `ready: false`, that the head pod is not ready).
 */
export async function addRayCluster(
  namespace: string,
  o: {
    name: string;
    headPort: number;
    authOptions?: Record<string, unknown>;
    node?: string | null;
    ready?: boolean;
  },
): Promise<ExtraCluster> {
  const headPod = `${o.name}-head-fghij`;
  const labels = {
    'ray.io/cluster': o.name,
    'ray.io/node-type': 'head',
    'ray.io/group': 'headgroup',
    'ray.io/is-ray-node': 'yes',
  };
  const ports = [
    { name: 'dashboard', containerPort: 8265 },
    { name: 'client', containerPort: 10001 },
  ];
  const container = { name: 'ray-head', image: 'rayproject/ray:2.59.0', ports };
  const node = o.node === undefined ? NODE : o.node;
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: headPod, namespace, labels },
    spec: {
      ...(node !== null && { nodeName: node }),
      containers: [container],
      tolerations: [{ operator: 'Exists' }],
    },
  };
  await k(
    ['apply', '-f', '-'],
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'List',
      items: [
        {
          apiVersion: 'kwok.x-k8s.io/v1alpha1',
          kind: 'PortForward',
          metadata: { name: headPod, namespace },
          spec: { forwards: [{ ports: [8265, 10001], target: { port: o.headPort, address: '127.0.0.1' } }] },
        },
        {
          apiVersion: 'ray.io/v1',
          kind: 'RayCluster',
          metadata: { name: o.name, namespace },
          spec: {
            rayVersion: '2.59.0',
            ...(o.authOptions && { authOptions: o.authOptions }),
            headGroupSpec: { rayStartParams: {}, template: { spec: { containers: [container] } } },
          },
        },
      ],
    }),
  );
  const createPod = async () => {
    await k(['create', '-f', '-'], JSON.stringify(pod));
    if (node === null) return;
    await waitFor(
      async () => {
        const r = await kubectl(['get', 'pod', headPod, '-n', namespace, '-o', 'jsonpath={.status.phase}']);
        return r.code === 0 && r.stdout.trim() === 'Running';
      },
      60_000,
      `pod ${headPod} Running`,
    );
  };
  await createPod();
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const ready = o.ready !== false;
  const status = {
    ...(ready && { state: 'ready' }),
    head: { podName: headPod, serviceName: `${o.name}-head-svc` },
    endpoints: { dashboard: '8265', client: '10001' },
    conditions: [
      {
        type: 'HeadPodReady',
        status: ready ? 'True' : 'False',
        reason: ready ? 'HeadPodRunningAndReady' : 'HeadPodNotReady',
        message: ready ? '' : 'the head pod is Pending',
        lastTransitionTime: now,
      },
    ],
  };
  await k([
    'patch',
    'rayclusters.ray.io',
    o.name,
    '-n',
    namespace,
    '--subresource=status',
    '--type=merge',
    '-p',
    JSON.stringify({ status }),
  ]);
  return {
    name: o.name,
    headPod,
    createPod,
    deletePod: async () => {
      await k(['delete', 'pod', headPod, '-n', namespace, '--wait=true', '--grace-period=0', '--force']);
    },
  };
}

export async function waitFor(
  check: () => Promise<boolean> | boolean,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not yet
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** GET through the forward with a bound: resolves with status and body length, or the error code. Never hangs. */
export function get(
  url: string,
  timeoutMs = 20_000,
): Promise<{ status: number; length: number } | { error: string }> {
  return fetch(url, { signal: AbortSignal.timeout(timeoutMs) })
    .then(async (r) => ({ status: r.status, length: (await r.arrayBuffer()).byteLength }))
    .catch((e: Error & { cause?: { code?: string } }) => ({ error: e.cause?.code ?? e.name }));
}

/**
 * Deletes our namespace for real: the sandbox runs no kube-controller-manager, so nothing empties a Terminating
 * namespace or removes its `kubernetes` finalizer. We delete what we created, then finalize it ourselves.
 */
export async function deleteNamespace(namespace: string): Promise<void> {
  if (!namespace.startsWith('faults-')) throw new Error(`refusing to delete ${namespace}`);
  for (const kind of [
    'pods',
    'portforwards.kwok.x-k8s.io',
    'rayclusters.ray.io',
    'secrets',
    'rolebindings',
    'roles',
    'serviceaccounts',
  ])
    await kubectl(['delete', kind, '--all', '-n', namespace, '--wait=false', '--grace-period=0', '--force']);
  await kubectl(['delete', 'namespace', namespace, '--wait=false']);
  const got = await kubectl(['get', 'namespace', namespace, '-o', 'json']);
  if (got.code !== 0) return;
  const ns = JSON.parse(got.stdout) as { spec?: { finalizers?: string[] } };
  ns.spec = { ...ns.spec, finalizers: [] };
  await kubectl(['replace', '--raw', `/api/v1/namespaces/${namespace}/finalize`, '-f', '-'], {
    input: JSON.stringify(ns),
  });
}
