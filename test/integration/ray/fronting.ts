// Real OpenShift AI fronting components for the fronting tests, started by the test (never by `sandbox up`):
// kube-rbac-proxy (built from the Go module proxy, cached in $RC_CACHE/bin like the sandbox's other Go binaries),
// the Gateway API and OpenShift Route CRDs (from the gateway-api and openshift/api Go modules), certificates from
// the sandbox CA, and a small TLS gateway that does what the ODH HTTPRoute asks of a Gateway (PathPrefix match,
// ReplacePrefixMatch rewrite to "/", forward to the backend).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request as httpsRequest, createServer as createHttpsServer } from 'node:https';
import { homedir } from 'node:os';
import { connect as tlsConnect } from 'node:tls';
import { join } from 'node:path';
import { kubectl, readSandbox } from '../../sandbox/client.mjs';

export const KUBE_RBAC_PROXY_VERSION = 'v0.19.1';
export const GATEWAY_API_VERSION = 'v1.3.0';
/** A commit of github.com/openshift/api (release 4.20 era) whose route CRD manifest MicroShift also applies. */
export const OPENSHIFT_API_VERSION = 'v0.0.0-20251015095338-264e80a2b6e7';

const cacheDir =
  process.env.RC_CACHE || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'ray-connect');
const binDir = join(cacheDir, 'bin');
const goEnv = { ...process.env, CGO_ENABLED: '0', GOFLAGS: '-buildvcs=false', GOTOOLCHAIN: 'auto' };

/**
 * `go` run without blocking: a cold build takes minutes, and a vitest worker whose event loop is blocked that long
 * misses vitest's RPC ("Timeout calling onTaskUpdate"), which fails the whole tier.
 */
function go(
  args: string[],
  opts: { cwd?: string; timeoutMs: number },
): Promise<{ code: number | null; stdout: string; stderr: string; error?: Error }> {
  return new Promise((resolve) => {
    const child = spawn('go', args, {
      env: goEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(opts.cwd !== undefined && { cwd: opts.cwd }),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ code: null, stdout, stderr, error });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** `go mod download -json mod@version` -> the module's directory in the module cache. */
async function goModDir(mod: string): Promise<string> {
  const r = await go(['mod', 'download', '-json', mod], { timeoutMs: 600_000 });
  const info = (() => {
    try {
      return JSON.parse(r.stdout) as { Dir?: string; Error?: string };
    } catch {
      return {};
    }
  })();
  if (r.code !== 0 || !info.Dir)
    throw new Error(`go mod download ${mod} failed: ${info.Error ?? r.error?.message ?? r.stderr.trim()}`);
  return info.Dir;
}

/**
 * `$RC_CACHE/bin/kube-rbac-proxy` at KUBE_RBAC_PROXY_VERSION, built when missing (a few minutes cold). Built from the
 * downloaded module's own go.mod/go.sum (`go install mod@version` asks the proxy for the version list, which this
 * proxy refuses for this module). Returns the path, or throws with go's output.
 */
export async function ensureKubeRbacProxy(): Promise<string> {
  const bin = join(binDir, 'kube-rbac-proxy');
  const stamp = join(binDir, '.kube-rbac-proxy.version');
  if (existsSync(bin) && existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === KUBE_RBAC_PROXY_VERSION)
    return bin;
  mkdirSync(binDir, { recursive: true });
  const dir = await goModDir(`github.com/brancz/kube-rbac-proxy@${KUBE_RBAC_PROXY_VERSION}`);
  const r = await go(['build', '-trimpath', '-o', bin, './cmd/kube-rbac-proxy'], {
    cwd: dir,
    timeoutMs: 1_500_000,
  });
  if (r.code !== 0)
    throw new Error(`go build kube-rbac-proxy failed: ${r.error?.message ?? r.stderr.trim()}`);
  writeFileSync(stamp, `${KUBE_RBAC_PROXY_VERSION}\n`);
  return bin;
}

async function applyCrd(file: string, name: string): Promise<void> {
  const r = await kubectl(['apply', '--server-side', '--force-conflicts', '-f', '-'], {
    input: readFileSync(file, 'utf8'),
  });
  if (r.code !== 0) throw new Error(`kubectl apply CRD ${name}: ${r.stderr}`);
  for (let i = 0; i < 120; i++) {
    const got = await kubectl([
      'get',
      'crd',
      name,
      '-o',
      'jsonpath={.status.conditions[?(@.type=="Established")].status}',
    ]);
    if (got.stdout.trim() === 'True') return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`CRD ${name} not Established`);
}

/** Gateway API (Gateway, HTTPRoute; standard channel) and OpenShift Route CRDs, from their Go modules. Idempotent. */
export async function installFrontingCrds(): Promise<void> {
  const gw = join(await goModDir(`sigs.k8s.io/gateway-api@${GATEWAY_API_VERSION}`), 'config/crd/standard');
  await applyCrd(join(gw, 'gateway.networking.k8s.io_gateways.yaml'), 'gateways.gateway.networking.k8s.io');
  await applyCrd(
    join(gw, 'gateway.networking.k8s.io_httproutes.yaml'),
    'httproutes.gateway.networking.k8s.io',
  );
  const os = await goModDir(`github.com/openshift/api@${OPENSHIFT_API_VERSION}`);
  await applyCrd(
    join(os, 'route/v1/zz_generated.crd-manifests/routes.crd.yaml'),
    'routes.route.openshift.io',
  );
}

/** A server certificate for `names` (DNS or IP) signed by the sandbox CA, in `dir`. */
export function issueCert(dir: string, base: string, names: string[]): { cert: string; key: string } {
  const s = readSandbox() as unknown as { dir: string; caFile: string };
  const caKey = join(s.dir, 'pki', 'ca.key');
  const key = join(dir, `${base}.key`);
  const csr = join(dir, `${base}.csr`);
  const cert = join(dir, `${base}.crt`);
  const ext = join(dir, `${base}.ext`);
  const san = names.map((n) => (/^[\d.]+$/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(',');
  writeFileSync(
    ext,
    `subjectAltName=${san}\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature,keyEncipherment\n`,
  );
  const openssl = (args: string[]) => {
    const r = spawnSync('openssl', args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl ${args[0]}: ${r.stderr}`);
  };
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key]);
  openssl(['req', '-new', '-key', key, '-out', csr, '-subj', `/CN=${names[0]}`]);
  openssl([
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    s.caFile,
    '-CAkey',
    caKey,
    '-set_serial',
    `0x${randomBytes(8).toString('hex')}`,
    '-out',
    cert,
    '-days',
    '2',
    '-sha256',
    '-extfile',
    ext,
  ]);
  return { cert, key };
}

export interface Running {
  port: number;
  stop(): Promise<void>;
  log(): string;
}

/** A free port on 127.0.0.1 (bound, then released). */
async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** GET https://127.0.0.1:port/ until something answers over TLS (any status). */
async function waitTls(port: number, ca: string, servername: string, child?: ChildProcess): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child && child.exitCode !== null) throw new Error(`exited ${child.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const req = httpsRequest(
        { host: '127.0.0.1', port, path: '/', ca, servername, agent: false, timeout: 2000 },
        (res) => {
          res.resume();
          resolve(true);
        },
      );
      req.on('error', () => resolve(false));
      req.on('timeout', () => req.destroy());
      req.end();
    });
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  throw new Error(`nothing answered on 127.0.0.1:${port}`);
}

/**
 * kube-rbac-proxy on 127.0.0.1 with a sandbox-CA certificate, in front of `upstream`, authenticating bearer tokens
 * (TokenReview) and authorizing (SubjectAccessReview) against the sandbox API server as the identity of `kubeconfig`.
 * `config` is its --config-file (the ODH operator's ConfigMap data).
 */
export async function startKubeRbacProxy(o: {
  bin: string;
  dir: string;
  upstream: string;
  config: string;
  kubeconfig: string;
  /** Default: a free port. */
  port?: number;
  /** Certificate names (default 127.0.0.1, localhost); the first is used to check it is up. */
  names?: string[];
}): Promise<Running> {
  const port = o.port ?? (await freePort());
  const names = o.names ?? ['localhost', '127.0.0.1'];
  const base = `kube-rbac-proxy-${port}`;
  const { cert, key } = issueCert(o.dir, base, names);
  const configFile = join(o.dir, `${base}.yaml`);
  writeFileSync(configFile, o.config);
  const child = spawn(
    o.bin,
    [
      `--secure-listen-address=127.0.0.1:${port}`,
      `--upstream=${o.upstream}`,
      `--config-file=${configFile}`,
      `--tls-cert-file=${cert}`,
      `--tls-private-key-file=${key}`,
      `--kubeconfig=${o.kubeconfig}`,
      '--v=2',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  child.stdout?.on('data', (c) => (log += c));
  child.stderr?.on('data', (c) => (log += c));
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  const s = readSandbox() as unknown as { caFile: string };
  try {
    await waitTls(port, readFileSync(s.caFile, 'utf8'), names[0] ?? 'localhost', child);
  } catch (e) {
    child.kill();
    throw new Error(`kube-rbac-proxy did not start (${(e as Error).message}): ${log.slice(-2000)}`);
  }
  return {
    port,
    log: () => log,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/**
 * A TLS gateway on 127.0.0.1 for one listener hostname: requests under `prefix` are forwarded to the backend with the
 * prefix replaced by "/" (HTTPRoute PathPrefix + URLRewrite ReplacePrefixMatch "/"), headers untouched; the exact
 * prefix redirects to `<prefix>/#/` (the ODH route's first rule); anything else is 404, like a Gateway with no route.
 */
export async function startGateway(o: {
  dir: string;
  hostname: string;
  prefix: string;
  backend: { port: number; ca: string; servername: string };
}): Promise<Running & { requests: { path: string; authorized: boolean; status: number }[] }> {
  const { cert, key } = issueCert(o.dir, 'gateway', [o.hostname]);
  const requests: { path: string; authorized: boolean; status: number }[] = [];
  const server = createHttpsServer({ cert: readFileSync(cert), key: readFileSync(key) }, (req, res) => {
    const path = req.url ?? '/';
    const record = (status: number) =>
      requests.push({ path: path.split('?')[0] ?? '', authorized: !!req.headers.authorization, status });
    if ((req.headers.host ?? '').split(':')[0] !== o.hostname) {
      record(404);
      return res.writeHead(404).end();
    }
    if (path === o.prefix) {
      record(302);
      return res.writeHead(302, { location: `${o.prefix}/#/` }).end();
    }
    if (!path.startsWith(`${o.prefix}/`)) {
      record(404);
      return res.writeHead(404).end();
    }
    const upstream = httpsRequest(
      {
        host: '127.0.0.1',
        port: o.backend.port,
        ca: o.backend.ca,
        servername: o.backend.servername,
        method: req.method,
        path: path.slice(o.prefix.length),
        headers: { ...req.headers, host: `${o.backend.servername}:${o.backend.port}` },
        agent: false,
      },
      (up) => {
        record(up.statusCode ?? 0);
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', () => {
      record(502);
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  });
  // WebSocket upgrades (Ray's job log tail) under the prefix: the raw request goes to the backend, then both ways.
  server.on('upgrade', (req, socket, head) => {
    const path = req.url ?? '/';
    if ((req.headers.host ?? '').split(':')[0] !== o.hostname || !path.startsWith(`${o.prefix}/`)) {
      requests.push({ path: path.split('?')[0] ?? '', authorized: !!req.headers.authorization, status: 404 });
      return socket.end('HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n');
    }
    requests.push({ path: path.split('?')[0] ?? '', authorized: !!req.headers.authorization, status: 101 });
    const upstream = tlsConnect({
      host: '127.0.0.1',
      port: o.backend.port,
      ca: o.backend.ca,
      servername: o.backend.servername,
    });
    upstream.on('secureConnect', () => {
      const headers = { ...req.headers, host: `${o.backend.servername}:${o.backend.port}` };
      const lines = [`${req.method} ${path.slice(o.prefix.length)} HTTP/1.1`];
      for (const [k, v] of Object.entries(headers))
        for (const value of Array.isArray(v) ? v : v === undefined ? [] : [v]) lines.push(`${k}: ${value}`);
      upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length) upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    requests,
    log: () => JSON.stringify(requests),
    stop: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
