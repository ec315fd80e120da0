// An exec credential plugin (a node script returning a real ServiceAccount token with a near expirationTimestamp)
// is run again after expiry, against the real API server; N concurrent first calls share one run.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createKubeClientFromContext,
  loadKubeconfig,
  MemoryLogger,
  nodeReadTextFile,
  whoAmI,
  type KubeClient,
} from '../../../packages/core/src/index.js';
import { sandbox, tempDir, writeKubeconfig } from './helpers.js';

const plugin = new URL('./plugins/sa-token-plugin.mjs', import.meta.url).pathname;

describe('exec credential plugin against the sandbox', () => {
  let s: ReturnType<typeof sandbox>;
  beforeAll(() => {
    s = sandbox();
  });

  async function clientWithPlugin(
    env: Record<string, string>,
  ): Promise<{ client: KubeClient; dir: string; runs: () => number; logger: MemoryLogger }> {
    const dir = tempDir();
    const count = join(dir, 'count');
    const exec = {
      apiVersion: 'client.authentication.k8s.io/v1',
      command: plugin,
      interactiveMode: 'Never',
      provideClusterInfo: true,
      env: Object.entries({ COUNT_FILE: count, ...env }).map(([name, value]) => ({ name, value })),
    };
    const view = await loadKubeconfig({
      env: { KUBECONFIG: writeKubeconfig(dir, { exec }) },
      homedir: '/x',
      readFile: nodeReadTextFile,
    });
    const logger = new MemoryLogger();
    const client = await createKubeClientFromContext(view, undefined, {
      env: { PATH: process.env.PATH ?? '' },
      execTimeoutMs: 60_000,
      logger,
    });
    const runs = () => {
      try {
        return readFileSync(count, 'utf8').length;
      } catch {
        return 0;
      }
    };
    return { client, dir, runs, logger };
  }

  it('is run again once its credential expires, and the new token works', async () => {
    const { client, runs, logger } = await clientWithPlugin({ EXPIRES_IN_MS: '1500' });
    const sa = s.serviceAccounts.rayUser;
    expect((await whoAmI(client)).username).toBe(`system:serviceaccount:${sa.namespace}:${sa.name}`);
    const first = await client.bearerToken();
    expect(runs()).toBe(1);
    // Wait until the announced expiry has passed (the clock is real here; we assert runs, not durations).
    while (Date.now() < (first?.expiresAt ?? 0)) await new Promise((r) => setTimeout(r, 200));
    expect((await whoAmI(client)).username).toBe(`system:serviceaccount:${sa.namespace}:${sa.name}`);
    expect(runs()).toBe(2);
    const second = await client.bearerToken();
    expect(second?.token.equals(first!.token)).toBe(false);
    // The logs say that the plugin ran and when its credential expires, never the token.
    const logged = JSON.stringify(logger.lines);
    expect(logged).toContain('sa-token-plugin.mjs');
    expect(logged).not.toContain(first!.token.reveal());
    expect(logged).not.toContain(second!.token.reveal());
  });

  it('concurrent first calls share one run; KUBERNETES_EXEC_INFO carries the cluster', async () => {
    const info = join(tempDir(), 'info');
    const { client, runs } = await clientWithPlugin({ EXPIRES_IN_MS: '600000', INFO_FILE: info });
    const results = await Promise.all(Array.from({ length: 5 }, () => whoAmI(client)));
    expect(new Set(results.map((r) => r.username)).size).toBe(1);
    expect(runs()).toBe(1);
    const execInfo = JSON.parse(readFileSync(info, 'utf8')) as {
      spec: { interactive: boolean; cluster: { server: string; 'certificate-authority-data': string } };
    };
    expect(execInfo.spec.interactive).toBe(false);
    expect(execInfo.spec.cluster.server).toBe(s.apiServer);
    expect(Buffer.from(execInfo.spec.cluster['certificate-authority-data'], 'base64').toString()).toBe(s.ca);
  });
});
