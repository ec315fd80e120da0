// The OpenShift API server stand-in for the OpenShift OAuth tests: a TLS server on 127.0.0.1 with the sandbox API
// server's own certificate that answers `/.well-known/oauth-authorization-server` with the sandbox OAuth server's
// metadata (as OpenShift's API server does) and passes every other request through unchanged to the real
// kube-apiserver (which does not serve that path).
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { readSandbox } from '../../sandbox/client.mjs';

export interface ApiFront {
  url: string;
  /** `METHOD path` of every request it got. */
  seen: string[];
  close(): Promise<void>;
}

export const DISCOVERY = '/.well-known/oauth-authorization-server';

/** The OpenShift API server stand-in: the OAuth metadata path from the provider, everything else the real API server. */
export async function startApiFront(o: { apiServer: string; issuer: string; ca: string }): Promise<ApiFront> {
  const pki = join((readSandbox() as { dir: string }).dir, 'pki');
  const seen: string[] = [];
  const relay = (target: URL, req: IncomingMessage, res: ServerResponse) => {
    // raw header pairs, Host rewritten; bodies are piped as they are
    const headers: string[] = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      const name = req.rawHeaders[i] ?? '';
      headers.push(name, name.toLowerCase() === 'host' ? target.host : (req.rawHeaders[i + 1] ?? ''));
    }
    const upstream = request(target, { method: req.method, headers, ca: o.ca }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.statusMessage, up.rawHeaders);
      up.pipe(res);
    });
    upstream.on('error', (e) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`front: ${e.message}`);
    });
    req.pipe(upstream);
  };
  const server = createServer(
    { cert: readFileSync(join(pki, 'apiserver.crt')), key: readFileSync(join(pki, 'apiserver.key')) },
    (req, res) => {
      seen.push(`${req.method} ${req.url}`);
      const path = new URL(req.url ?? '/', 'https://front').pathname;
      if (req.method === 'GET' && path === DISCOVERY) relay(new URL(DISCOVERY, o.issuer), req, res);
      else relay(new URL(req.url ?? '/', o.apiServer), req, res);
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
