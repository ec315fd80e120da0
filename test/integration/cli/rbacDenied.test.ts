// bob (may list RayClusters, nothing else) gets the RBAC message with the exact fix, not a stack trace.
import { describe, expect, it } from 'vitest';
import { cliBin, cliEnv, run, sandbox, userKubeconfig } from '../ray/helpers.js';

describe('ray-connect as bob (sandbox)', () => {
  const s = sandbox();

  it('connect to the RBAC-mode cluster: ACCESS_DENIED naming ray:write, the kubectl commands and the 5-minute cache', async () => {
    const env = cliEnv(await userKubeconfig('bob'));
    const r = await run(process.execPath, [cliBin, 'connect', s.rayClusters.rbac ?? ''], env);
    expect(r.code).toBe(4);
    const lines = r.stderr.trim().split('\n');
    // One line: `ray-connect: error: <what> — <fix>`.
    expect(lines[0]).toMatch(
      /^ray-connect: error: .*ray:write on rayclusters\/raycluster-rbac.* — Ask a namespace admin to run: kubectl create role .* --verb=ray:write --resource=rayclusters.ray.io --resource-name=raycluster-rbac && kubectl create rolebinding .* --user=oidc:bob/,
    );
    expect(r.stderr).toMatch(/5 minutes/);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(lines.length).toBe(1);
  });

  it('token of a token-mode cluster: no permission on the Secret, with the exact RBAC', async () => {
    const env = cliEnv(await userKubeconfig('bob'));
    const r = await run(process.execPath, [cliBin, 'token', s.rayClusters.token ?? ''], env);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/get on secrets\/raycluster-token/);
    expect(r.stderr).toMatch(/--verb=get --resource=secrets --resource-name=raycluster-token/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
