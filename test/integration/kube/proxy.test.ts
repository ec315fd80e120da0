// HTTPS_PROXY / NO_PROXY against a real CONNECT proxy in front of the sandbox API server, for requests (undici)
// and for the WebSocket agent that port-forward uses.
import { request } from 'node:https';
import type { Agent } from 'node:https';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKubeClient, secret, staticTokenSource, whoAmI } from '../../../packages/core/src/index.js';
import { sandbox, startConnectProxy } from './helpers.js';

describe('proxies', () => {
  let s: ReturnType<typeof sandbox>;
  let proxy: Awaited<ReturnType<typeof startConnectProxy>>;
  let token: string;
  beforeAll(async () => {
    s = sandbox();
    token = readFileSync(s.staticUsers.admin!.tokenFile, 'utf8').trim();
    proxy = await startConnectProxy();
  });
  afterAll(() => proxy.close());

  const hostPort = () => new URL(s.apiServer).host;

  it('requests go through HTTPS_PROXY', async () => {
    const before = proxy.targets.length;
    const client = createKubeClient({
      server: s.apiServer,
      ca: s.ca,
      credential: staticTokenSource(secret(token)),
      env: { HTTPS_PROXY: proxy.url },
    });
    expect((await whoAmI(client)).username).toBe(s.staticUsers.admin!.username);
    expect(proxy.targets.slice(before)).toContain(hostPort());
  });

  it('NO_PROXY excludes the host', async () => {
    const before = proxy.targets.length;
    const client = createKubeClient({
      server: s.apiServer,
      ca: s.ca,
      credential: staticTokenSource(secret(token)),
      env: { https_proxy: proxy.url, no_proxy: 'localhost,127.0.0.1' },
    });
    await whoAmI(client);
    expect(proxy.targets.length).toBe(before);
  });

  it('webSocketOptions() carries a tunnelling agent that reaches the API server with our TLS settings', async () => {
    const before = proxy.targets.length;
    const client = createKubeClient({
      server: s.apiServer,
      ca: s.ca,
      credential: staticTokenSource(secret(token)),
      env: { HTTPS_PROXY: proxy.url },
    });
    const ws = await client.webSocketOptions();
    expect(ws.agent).toBeDefined();
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        `${s.apiServer}/version`,
        {
          agent: ws.agent as Agent,
          ca: ws.ca,
          headers: ws.headers,
          rejectUnauthorized: ws.rejectUnauthorized,
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(200);
    expect(proxy.targets.slice(before)).toContain(hostPort());
  });

  it('the tunnelling agent still verifies the API server certificate', async () => {
    const client = createKubeClient({
      server: s.apiServer,
      credential: staticTokenSource(secret(token)),
      env: { HTTPS_PROXY: proxy.url },
    });
    const ws = await client.webSocketOptions();
    const error = await new Promise<unknown>((resolve) => {
      const req = request(
        `${s.apiServer}/version`,
        { agent: ws.agent as Agent, rejectUnauthorized: ws.rejectUnauthorized },
        () => resolve(undefined),
      );
      req.on('error', resolve);
      req.end();
    });
    expect((error as { code?: string }).code).toMatch(/CERT|SIGNATURE|VERIFY/);
  });
});
