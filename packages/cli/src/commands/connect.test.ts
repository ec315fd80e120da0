import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RayConnect } from '@ray-connect/core';
import { RayConnectError, silentLogger } from '@ray-connect/core';
import type { RayConnectEvent } from '@ray-connect/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { parseArgs } from '../args.js';
import type { CliContext } from '../compose.js';
import { connect } from './connect.js';
import { EXIT } from '../exitCodes.js';

const bin = join(import.meta.dirname, '../../bin/ray-connect.js');
const held: ServerResponse[] = [];
let close: (() => Promise<void>) | undefined;

afterEach(async () => {
  for (const res of held.splice(0)) res.destroy();
  await close?.();
  close = undefined;
});

describe('ray-connect connect (the real CLI process)', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)(
    'stops at once on %s while the connect is still waiting for an answer',
    async (signal) => {
      // An API server that takes the requests connect makes (who am I, the RayCluster) and never answers.
      const asked: string[] = [];
      const server = createServer((req: IncomingMessage, res: ServerResponse) => {
        asked.push(req.url ?? '');
        held.push(res);
      });
      const port = await new Promise<number>((r) =>
        server.listen(0, '127.0.0.1', () => r((server.address() as { port: number }).port)),
      );
      close = () => new Promise((r) => server.close(() => r()));
      const dir = mkdtempSync(join(tmpdir(), 'rc-cli-connect-'));
      const kubeconfig = join(dir, 'config');
      writeFileSync(
        kubeconfig,
        `apiVersion: v1
kind: Config
current-context: t
clusters: [{name: t, cluster: {server: "http://127.0.0.1:${port}"}}]
users: [{name: t, user: {token: not-a-real-token}}]
contexts: [{name: t, context: {cluster: t, user: t, namespace: ray-demo}}]
`,
      );
      const child = spawn(process.execPath, [bin, 'connect', 'rc', '-n', 'ray-demo'], {
        env: {
          PATH: process.env.PATH ?? '',
          HOME: dir,
          KUBECONFIG: kubeconfig,
          RAY_CONNECT_CONFIG_DIR: join(dir, 'rc'),
          RAY_CONNECT_AGENT: 'off',
          RAY_CONNECT_SECRET_STORE: 'memory',
          RAY_CONNECT_BROWSER: 'none',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      await expect.poll(() => asked.length, { timeout: 20_000 }).toBeGreaterThan(0);
      child.kill(signal);
      expect(await exited).toBe(EXIT.interrupted);
      expect(stderr).toMatch(/interrupted: not connected to rc/);
    },
    30_000,
  );
});

describe('ray-connect connect: what it prints', () => {
  it('a token the head rejects: the error, and no "ready: ..." line before it', async () => {
    const errLines: string[] = [];
    let listener: ((e: RayConnectEvent) => void) | undefined;
    const api = {
      listClusters: async () => [{ id: 'context:t', name: 't', current: true, namespaces: ['ray-demo'] }],
      onEvent: (l: (e: RayConnectEvent) => void) => {
        listener = l;
        return () => (listener = undefined);
      },
      connect: async () => {
        // The forward answers (the supervisor says ready), then the token check fails.
        listener?.({
          type: 'connection-changed',
          connection: {
            namespace: 'ray-demo',
            name: 'rc',
            state: 'ready',
            dashboardUrl: 'http://127.0.0.1:1',
          },
        } as unknown as RayConnectEvent);
        throw new RayConnectError('RAY_REJECTED_TOKEN', 'Ray cluster rc rejected the token from its Secret');
      },
    } as unknown as RayConnect;
    const ctx = {
      api,
      args: parseArgs(['connect', 'rc', '--namespace', 'ray-demo']),
      json: false,
      logger: silentLogger,
      out: () => undefined,
      err: (t: string) => void errLines.push(t),
    } as unknown as CliContext;
    await expect(connect(ctx)).rejects.toMatchObject({ code: 'RAY_REJECTED_TOKEN' });
    expect(errLines.filter((l) => l.startsWith('ready:'))).toEqual([]);
  });
});
