// `ray-connect login --openshift` (the built CLI) against the sandbox: the kubeconfig's server is the OpenShift API
// server stand-in (`openshiftFront.ts`: the OAuth metadata path answered from the sandbox oidc-provider, everything
// else passed to the real kube-apiserver). alice signs in through the provider's real pages; the stored opaque token
// is then used by `whoami` and `clusters`.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserLogin } from '../../sandbox/client.mjs';
import { cliBin, cliEnv, run } from '../ray/helpers.js';
import { sandbox, tempDir } from './helpers.js';
import { type ApiFront, startApiFront } from './openshiftFront.js';

describe('ray-connect login --openshift (sandbox)', () => {
  let s: ReturnType<typeof sandbox>;
  let front: ApiFront;
  beforeAll(async () => {
    s = sandbox();
    front = await startApiFront({ apiServer: s.env.apiServer, issuer: s.idp.issuer, ca: s.ca });
  });
  afterAll(() => front?.close());

  it('prints the OAuth server URL, alice signs in there, whoami and clusters use the opaque token', async () => {
    const dir = tempDir('rc-it-ocp-cli-');
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(
      kubeconfig,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        'current-context': 'ocp',
        clusters: [{ name: 'ocp', cluster: { server: front.url, 'certificate-authority': s.env.caFile } }],
        users: [{ name: 'nobody', user: {} }],
        contexts: [{ name: 'ocp', context: { cluster: 'ocp', user: 'nobody', namespace: s.env.namespace } }],
      }),
      { mode: 0o600 },
    );
    // the OAuth server's CA (on OpenShift often the ingress CA); here the sandbox CA
    const env = {
      ...cliEnv(kubeconfig),
      RAY_CONNECT_SECRET_STORE: 'file',
      RAY_CONNECT_OIDC_CA_FILE: s.env.oidc.caFile,
    };
    const child = spawn(process.execPath, [cliBin, 'login', '--openshift'], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr.on('data', (c) => {
        stderr += c;
        const m = /^(https:\/\/\S+\/auth\?\S+)$/m.exec(stderr);
        if (m?.[1]) resolve(m[1]);
      });
      void exited.then((code) => reject(new Error(`login exited ${code} before printing a URL: ${stderr}`)));
    });
    expect(new URL(url).searchParams.get('client_id')).toBe('openshift-cli-client');
    const callback = await browserLogin(url, { user: 'alice' });
    expect(callback.status).toBe(200);
    expect(await exited, stderr).toBe(0);
    expect(stdout).toMatch(/Signed in to ocp as oidc:alice \(openshift\)/);
    // The display-token fallback for a browser that cannot come back to this machine.
    expect(stderr).toMatch(
      /get a token at https:\/\/\S+\/oauth\/token\/request and run: ray-connect login --token-stdin/,
    );

    const who = await run(process.execPath, [cliBin, 'whoami', '--json'], env);
    expect(who.code, who.stderr).toBe(0);
    expect(JSON.parse(who.stdout)).toMatchObject({
      signIn: { status: 'signed-in', method: 'openshift', identity: { username: 'oidc:alice' } },
    });
    const clusters = await run(process.execPath, [cliBin, 'clusters'], env);
    expect(clusters.code, clusters.stderr).toBe(0);
    expect(clusters.stdout).toMatch(/raycluster-rbac\s+ready\s+kubernetes/);
  });
});
