import { RayConnectError, Secret } from '@ray-connect/core';
import type { RayConnectApi, RayConnectEvent } from '@ray-connect/shared';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { agentClient } from './agentClient.js';
import { type AgentServer, createAgentServer } from './agentServer.js';

const SECRET = 'client-secret-0123456789abcdef';
let server: AgentServer;
let port: number;
const subscribed = new Set<(e: RayConnectEvent) => void>();

function fakeApi(): RayConnectApi {
  return {
    version: async () => ({ version: '0.1.0', protocol: 1 }),
    listClusters: async () => [],
    rayToken: async (ref: { name: string }) => ({ token: `token-of-${ref.name}` }),
    listRayClusters: async () => {
      throw new RayConnectError('SIGNED_OUT', 'Not signed in to sandbox', { fix: 'ray-connect login' });
    },
    removeCluster: async () => undefined,
    onEvent: (listener: (e: RayConnectEvent) => void) => {
      subscribed.add(listener);
      return () => void subscribed.delete(listener);
    },
  } as unknown as RayConnectApi;
}

beforeEach(async () => {
  server = createAgentServer({ api: fakeApi(), secret: SECRET });
  port = await server.listen(0);
});
afterEach(async () => {
  await server.close();
});

describe('agentClient', () => {
  it('calls the agent: results, undefined as null, and the arguments in order', async () => {
    const api = agentClient({ port, pid: 1, secret: new Secret(SECRET) });
    expect(await api.version()).toEqual({ version: '0.1.0', protocol: 1 });
    expect(await api.rayToken({ clusterId: 'c', namespace: 'n', name: 'head' })).toEqual({
      token: 'token-of-head',
    });
    expect(await api.removeCluster('x')).toBeNull();
  });

  it("turns the agent's errors back into RayConnectError with the same code and fix", async () => {
    const api = agentClient({ port, pid: 1, secret: new Secret(SECRET) });
    const e = await api.listRayClusters('c').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RayConnectError);
    expect(e).toMatchObject({
      code: 'SIGNED_OUT',
      message: 'Not signed in to sandbox',
      fix: 'ray-connect login',
    });
  });

  it('a wrong secret is SIGNED_OUT (401), an agent that is gone is AGENT_UNAVAILABLE naming its pid', async () => {
    const wrong = agentClient({ port, pid: 1, secret: new Secret('wrong-secret-0123456789') });
    await expect(wrong.version()).rejects.toMatchObject({ code: 'SIGNED_OUT' });
    await server.close();
    const gone = agentClient({ port, pid: 4242, secret: new Secret(SECRET) });
    await expect(gone.version()).rejects.toMatchObject({
      code: 'AGENT_UNAVAILABLE',
      message: expect.stringContaining('pid 4242'),
    });
  });

  it('delivers events from /v1/events and lets go of the stream on close', async () => {
    const api = agentClient({ port, pid: 1, secret: new Secret(SECRET) });
    const seen: RayConnectEvent[] = [];
    api.onEvent((e) => seen.push(e));
    await expect.poll(() => subscribed.size).toBe(1); // subscribed on the agent's side
    for (const l of subscribed) l({ type: 'clusters-changed' });
    await expect.poll(() => seen).toEqual([{ type: 'clusters-changed' }]);
    await api.close();
    await expect.poll(() => subscribed.size).toBe(0);
  });
});
