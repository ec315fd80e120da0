import { request } from 'node:http';
import { RayConnectError } from '@ray-connect/core';
import type { RayConnectApi, RayConnectEvent } from '@ray-connect/shared';
import { MAX_BODY_BYTES } from '@ray-connect/shared';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AgentServer, createAgentServer } from './agentServer.js';

const SECRET = 'test-secret-0123456789abcdef';
let agent: AgentServer;
let port: number;
let emit: (e: RayConnectEvent) => void = () => undefined;
const calls: { method: string; args: unknown[] }[] = [];

function fakeApi(): RayConnectApi {
  const record =
    (method: string, result: unknown = null) =>
    async (...args: unknown[]) => {
      calls.push({ method, args });
      return result;
    };
  return {
    version: record('version', { version: '0.1.0', protocol: 1 }),
    listClusters: record('listClusters', []),
    addCluster: record('addCluster'),
    removeCluster: record('removeCluster', undefined),
    beginSignIn: record('beginSignIn'),
    completeSignIn: record('completeSignIn'),
    finishBrowserSignIn: record('finishBrowserSignIn'),
    cancelSignIn: record('cancelSignIn'),
    signOut: record('signOut', { removed: [] }),
    setNamespaces: record('setNamespaces'),
    listRayClusters: async () => {
      throw new RayConnectError('ACCESS_DENIED', 'no list', { fix: 'ask' });
    },
    checkAccess: record('checkAccess'),
    connect: async () => {
      throw new RayConnectError('PORT_IN_USE', 'Local port 8265 (dashboard) is already in use', {
        details: { port: 8265, label: 'dashboard' },
      });
    },
    disconnect: record('disconnect'),
    listConnections: record('listConnections', []),
    sessionEnv: record('sessionEnv'),
    rayToken: record('rayToken'),
    onEvent: (listener) => {
      emit = listener;
      return () => (emit = () => undefined);
    },
  } as RayConnectApi;
}

beforeEach(async () => {
  calls.length = 0;
  agent = createAgentServer({ api: fakeApi(), secret: SECRET });
  port = await agent.listen(0);
});
afterEach(async () => {
  await agent.close();
});

function call(
  path: string,
  {
    method = 'POST',
    body,
    headers = {},
  }: { method?: string; body?: string | Buffer; headers?: Record<string, string> } = {},
): Promise<{ status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, method, headers: { authorization: `Bearer ${SECRET}`, ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : undefined });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('agent HTTP API', () => {
  it('listens on 127.0.0.1', () => {
    expect((agent.server.address() as { address: string }).address).toBe('127.0.0.1');
  });

  it('calls a method with its args and returns the result', async () => {
    const r = await call('/v1/call/setNamespaces', {
      body: JSON.stringify({ args: ['context:a', ['ns1']] }),
    });
    expect(r.status).toBe(200);
    expect(calls).toEqual([{ method: 'setNamespaces', args: ['context:a', ['ns1']] }]);
    expect(await call('/v1/version', { method: 'GET' })).toEqual({
      status: 200,
      json: { version: '0.1.0', protocol: 1 },
    });
  });

  it('401 without or with a wrong secret, and does nothing', async () => {
    expect((await call('/v1/call/listClusters', { headers: { authorization: 'Bearer nope' } })).status).toBe(
      401,
    );
    expect((await call('/v1/call/listClusters', { headers: { authorization: '' } })).status).toBe(401);
    expect(calls).toEqual([]);
  });

  it('403 for requests with an Origin header', async () => {
    expect((await call('/v1/call/listClusters', { headers: { origin: 'http://evil.example' } })).status).toBe(
      403,
    );
    expect(calls).toEqual([]);
  });

  it('404 for unknown methods and paths (onEvent is not callable)', async () => {
    expect((await call('/v1/call/nope')).status).toBe(404);
    expect((await call('/v1/call/onEvent')).status).toBe(404);
    expect((await call('/elsewhere', { method: 'GET' })).status).toBe(404);
  });

  it('413 for bodies over MAX_BODY_BYTES', async () => {
    const r = await call('/v1/call/listClusters', { body: Buffer.alloc(MAX_BODY_BYTES + 10, 32) });
    expect(r.status).toBe(413);
    expect(calls).toEqual([]);
  });

  it('400 for a body that is not { args: [...] }', async () => {
    expect((await call('/v1/call/listClusters', { body: '{"args": 3}' })).status).toBe(400);
    expect((await call('/v1/call/listClusters', { body: 'not json' })).status).toBe(400);
    for (const body of ['"hello"', '[1]', '42', 'null'])
      expect((await call('/v1/call/listClusters', { body })).status).toBe(400);
    expect(calls).toEqual([]);
  });

  it('maps RayConnectError codes to HTTP status with ErrorInfo', async () => {
    const r = await call('/v1/call/listRayClusters', { body: JSON.stringify({ args: ['x'] }) });
    expect(r).toEqual({
      status: 403,
      json: { error: { code: 'ACCESS_DENIED', message: 'no list', fix: 'ask' } },
    });
  });

  it('a taken local port is 409 (the JupyterLab server passes it on), not 500', async () => {
    const r = await call('/v1/call/connect', {
      body: JSON.stringify({ args: [{}, { dashboardPort: 8265 }] }),
    });
    expect(r.status).toBe(409);
    expect(r.json).toMatchObject({ error: { code: 'PORT_IN_USE', details: { port: 8265 } } });
  });

  it('streams events as SSE', async () => {
    const got = await new Promise<string>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port, path: '/v1/events', headers: { authorization: `Bearer ${SECRET}` } },
        (res) => {
          expect(res.headers['content-type']).toBe('text/event-stream');
          let text = '';
          res.on('data', (c: Buffer) => {
            text += c.toString();
            if (text.includes(': ray-connect events')) emit({ type: 'clusters-changed' });
            if (text.includes('data: ')) {
              req.destroy();
              resolve(text);
            }
          });
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(got).toContain('data: {"type":"clusters-changed"}');
  });
});
