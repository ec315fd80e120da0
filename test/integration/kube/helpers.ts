// Shared setup for the kube integration tests: the running sandbox and temp kubeconfig files.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSandbox } from '../../sandbox/client.mjs';

export interface KubeSandbox {
  apiServer: string;
  caFile: string;
  adminKubeconfig: string;
  namespace: string;
  oidc: { issuer: string; clientId: string; caFile: string };
  serviceAccounts: { rayUser: { namespace: string; name: string } };
  staticUsers: Record<string, { username: string; tokenFile: string }>;
}

export function sandbox(): KubeSandbox & { ca: string } {
  const env = readSandbox() as KubeSandbox;
  return { ...env, ca: readFileSync(env.caFile, 'utf8') };
}

export function tempDir(prefix = 'rc-kube-it-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Writes a one-context kubeconfig for the sandbox with `user` (kubeconfig YAML accepts JSON). */
export function writeKubeconfig(
  dir: string,
  user: Record<string, unknown>,
  cluster: Record<string, unknown> = {},
): string {
  const s = sandbox();
  const file = join(dir, 'config');
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    'current-context': 'it',
    clusters: [
      { name: 'sandbox', cluster: { server: s.apiServer, 'certificate-authority': s.caFile, ...cluster } },
    ],
    users: [{ name: 'it-user', user }],
    contexts: [{ name: 'it', context: { cluster: 'sandbox', user: 'it-user', namespace: s.namespace } }],
  };
  writeFileSync(file, JSON.stringify(config, null, 2), { mode: 0o600 });
  return file;
}

/** A localhost port nobody listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** An unsigned JWT-shaped token (not accepted by any API server) with the given exp. */
export function fakeJwt(expSeconds: number): string {
  const b = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${b({ alg: 'RS256', kid: 'x' })}.${b({ sub: 'nobody', exp: expSeconds })}.c2ln`;
}

/** A real HTTP CONNECT proxy on 127.0.0.1 that records the targets it tunnels to. */
export async function startConnectProxy(): Promise<{
  url: string;
  targets: string[];
  close: () => Promise<void>;
}> {
  const { createServer: createHttpServer } = await import('node:http');
  const { connect } = await import('node:net');
  const targets: string[] = [];
  const sockets = new Set<{ destroy(): void }>();
  const server = createHttpServer((_req, res) => res.writeHead(405).end());
  server.on('connect', (req, client, head) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    const target = req.url ?? '';
    targets.push(target);
    const i = target.lastIndexOf(':');
    const upstream = connect(Number(target.slice(i + 1)), target.slice(0, i).replace(/^\[|\]$/g, ''), () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    client.on('close', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    targets,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
