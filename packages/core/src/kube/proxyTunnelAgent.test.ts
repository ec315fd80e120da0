import { request, type Agent } from 'node:https';
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ProxyTunnelAgent } from './proxyTunnelAgent.js';

let server: Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

/** A fake proxy that records the CONNECT request and answers with `reply`. */
async function fakeProxy(reply: string): Promise<{ url: string; seen: Promise<string> }> {
  let resolveSeen: (s: string) => void = () => undefined;
  const seen = new Promise<string>((r) => (resolveSeen = r));
  server = createServer((socket) => {
    let data = '';
    socket.on('data', (chunk) => {
      data += chunk.toString('latin1');
      if (data.includes('\r\n\r\n')) {
        resolveSeen(data);
        socket.end(reply);
      }
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { url: `http://user:p%40ss@127.0.0.1:${(server.address() as { port: number }).port}`, seen };
}

function get(url: string, agent: Agent): Promise<unknown> {
  return new Promise((resolve) => {
    const req = request(url, { agent }, () => resolve(undefined));
    req.on('error', resolve);
    req.end();
  });
}

describe('ProxyTunnelAgent', () => {
  it('sends CONNECT host:port with Proxy-Authorization from the proxy URL', async () => {
    const proxy = await fakeProxy('HTTP/1.1 407 Proxy Authentication Required\r\n\r\n');
    const error = await get('https://api.example:6443/version', new ProxyTunnelAgent(proxy.url));
    const seen = await proxy.seen;
    expect(seen).toMatch(/^CONNECT api\.example:6443 HTTP\/1\.1\r\n/);
    expect(seen).toContain(`Proxy-Authorization: Basic ${Buffer.from('user:p@ss').toString('base64')}`);
    expect(error).toMatchObject({ code: 'ERR_PROXY_CONNECT' });
    expect((error as Error).message).toContain('HTTP 407');
  });

  it('brackets IPv6 targets', async () => {
    const proxy = await fakeProxy('HTTP/1.1 403 Forbidden\r\n\r\n');
    await get('https://[fd00::1]:443/', new ProxyTunnelAgent(proxy.url));
    expect(await proxy.seen).toMatch(/^CONNECT \[fd00::1\]:443 /);
  });
});
