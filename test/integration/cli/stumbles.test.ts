// Issue 18 CLI stumbles against the sandbox: a taken fixed port, clusters -A, one message style.
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliBin, cliEnv, run, sandbox, userKubeconfig } from '../ray/helpers.js';

describe('ray-connect stumbles (sandbox)', () => {
  const s = sandbox();
  let kubeconfig: string;
  let holder: Server;
  let taken: number;
  beforeAll(async () => {
    kubeconfig = await userKubeconfig('alice');
    holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    taken = (holder.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => holder.close(() => resolve())));

  it('connect --dashboard-port N with N taken: exit 8, one line naming the port and the option', async () => {
    const r = await run(
      process.execPath,
      [cliBin, 'connect', s.rayClusters.noauth ?? 'raycluster-noauth', '--dashboard-port', String(taken)],
      cliEnv(kubeconfig),
    );
    expect(r.stderr).toContain(
      `ray-connect: error: Local port ${taken} (dashboard) is already in use on 127.0.0.1 — Pick another port with --dashboard-port <port>, or leave --dashboard-port out to get a free one`,
    );
    expect(r.code).toBe(8);
    expect(r.stdout).toBe('');
  });

  it('clusters -A (admin) lists with a NAMESPACE column, including the sandbox namespace', async () => {
    const r = await run(process.execPath, [cliBin, 'clusters', '-A'], cliEnv(s.adminKubeconfig));
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NAMESPACE\s+NAME\s+STATE/);
    expect(lines.some((l) => l.startsWith(`${s.namespace} `) && l.includes('raycluster-token'))).toBe(true);
  });

  it('an empty namespace hints at -A', async () => {
    const r = await run(process.execPath, [cliBin, 'clusters', '-n', 'default'], cliEnv(s.adminKubeconfig));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^No Ray clusters in default on .*\. Other namespaces: ray-connect clusters -A/);
  });
});
