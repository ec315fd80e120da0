// Deleting and recreating the head pod while `ray-connect connect` runs: the forward recovers by itself
// (reconnecting -> ready) and a new `ray job submit` with the same env succeeds.
import { describe, expect, it } from 'vitest';
import {
  cliBin,
  cliEnv,
  rayJobSubmit,
  recreatePod,
  run,
  sandbox,
  startConnect,
  userKubeconfig,
} from '../ray/helpers.js';

describe('ray-connect connect survives a head pod restart (sandbox)', () => {
  const s = sandbox();

  it('recovers by itself and a new job succeeds', async () => {
    const name = s.rayClusters.token ?? '';
    const env = cliEnv(await userKubeconfig('alice'));
    const connect = await startConnect([name, '--json'], env);
    try {
      const e = await run(process.execPath, [cliBin, 'env', name, '--format', 'json'], env);
      const session = JSON.parse(e.stdout) as { env: Record<string, string> };
      const first = await rayJobSubmit(session.env, 'rc-it-before-restart');
      expect(first.code, first.stderr).toBe(0);

      await recreatePod(s.rayClusterDetails.token?.headPod ?? '', s.namespace);
      const events = () =>
        connect
          .output()
          .stdout.split('\n')
          .filter((l) => l.startsWith('{"event"'))
          .map((l) => (JSON.parse(l) as { connection: { state: string } }).connection.state);
      await expect
        .poll(() => events().includes('reconnecting'), { timeout: 60_000, interval: 250 })
        .toBe(true);
      await expect
        .poll(() => events().slice(events().lastIndexOf('reconnecting')).includes('ready'), {
          timeout: 90_000,
          interval: 250,
        })
        .toBe(true);

      const again = await run(process.execPath, [cliBin, 'env', name, '--format', 'json'], env);
      expect((JSON.parse(again.stdout) as { env: Record<string, string> }).env.RAY_ADDRESS).toBe(
        session.env.RAY_ADDRESS,
      );
      const second = await rayJobSubmit(session.env, 'rc-it-after-restart');
      expect(second.code, second.stdout + second.stderr).toBe(0);
      expect(second.stdout + second.stderr).toContain('rc-it-after-restart');
    } finally {
      expect(await connect.stop()).toBe(0);
    }
  });
});
