// The kubeconfig loader and credential sources against the real sandbox kube-apiserver.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  canI,
  createKubeClientFromContext,
  inClusterConfig,
  createKubeClient,
  loadKubeconfig,
  nodeReadTextFile,
  whoAmI,
} from '../../../packages/core/src/index.js';
import { createToken } from '../../sandbox/client.mjs';
import { sandbox, tempDir, writeKubeconfig } from './helpers.js';

describe('kubeconfig against the sandbox', () => {
  let s: ReturnType<typeof sandbox>;
  beforeAll(() => {
    s = sandbox();
  });

  it('the admin kubeconfig (client certificate) lists namespaces', async () => {
    const view = await loadKubeconfig({
      env: {},
      homedir: '/nonexistent',
      readFile: nodeReadTextFile,
      explicitPath: s.adminKubeconfig,
    });
    const client = await createKubeClientFromContext(view, undefined, { env: {} });
    expect(client.server).toBe(s.apiServer);
    const list = await client.request<{ items: { metadata: { name: string } }[] }>({
      path: '/api/v1/namespaces',
    });
    expect(list.items.map((n) => n.metadata.name)).toEqual(expect.arrayContaining(['default', s.namespace]));
    expect(await client.bearerToken()).toBeUndefined();
  });

  it('KUBECONFIG with two files merges them; the admin context still works', async () => {
    const dir = tempDir();
    const first = join(dir, 'first');
    writeFileSync(first, 'current-context: sandbox-admin\n');
    const view = await loadKubeconfig({
      env: { KUBECONFIG: `${first}:${s.adminKubeconfig}` },
      homedir: '/nonexistent',
      readFile: nodeReadTextFile,
    });
    expect(view.files).toEqual([first, s.adminKubeconfig]);
    const client = await createKubeClientFromContext(view, undefined, { env: {} });
    expect((await whoAmI(client)).groups).toContain('system:masters');
  });

  it('a ServiceAccount token works, and whoAmI names the ServiceAccount', async () => {
    const sa = s.serviceAccounts.rayUser;
    const dir = tempDir();
    const file = writeKubeconfig(dir, { token: await createToken(sa.namespace, sa.name) });
    const view = await loadKubeconfig({
      env: { KUBECONFIG: file },
      homedir: '/nonexistent',
      readFile: nodeReadTextFile,
    });
    const client = await createKubeClientFromContext(view, undefined, { env: {} });
    expect(client.namespace).toBe(s.namespace);
    const me = await whoAmI(client);
    expect(me.username).toBe(`system:serviceaccount:${sa.namespace}:${sa.name}`);
    const token = await client.bearerToken();
    expect(token?.expiresAt).toBeGreaterThan(Date.now());
  });

  it('tokenFile (kubectl spelling) with a trailing newline, relative to the kubeconfig, is re-read after rotation', async () => {
    const sa = s.serviceAccounts.rayUser;
    const dir = tempDir();
    writeFileSync(join(dir, 'token'), 'not-yet-rotated\n', { mode: 0o600 });
    const file = writeKubeconfig(dir, { tokenFile: 'token' });
    const view = await loadKubeconfig({
      env: { KUBECONFIG: file },
      homedir: '/nonexistent',
      readFile: nodeReadTextFile,
    });
    const client = await createKubeClientFromContext(view, undefined, { env: {} });
    // The API server rejects the first token: 401 drops the cache, the file is re-read, still rejected.
    await expect(whoAmI(client)).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
    // Rotate the file in place: the next request reads the new token (with its trailing newline trimmed).
    writeFileSync(join(dir, 'token'), `${await createToken(sa.namespace, sa.name)}\n`);
    expect((await whoAmI(client)).username).toBe(`system:serviceaccount:${sa.namespace}:${sa.name}`);
  });

  it('token-file (the dashed spelling) works too', async () => {
    const sa = s.serviceAccounts.rayUser;
    const dir = tempDir();
    writeFileSync(join(dir, 'sa-token'), `${await createToken(sa.namespace, sa.name)}\n`, { mode: 0o600 });
    const view = await loadKubeconfig({
      env: { KUBECONFIG: writeKubeconfig(dir, { 'token-file': join(dir, 'sa-token') }) },
      homedir: '/x',
      readFile: nodeReadTextFile,
    });
    const client = await createKubeClientFromContext(view, undefined, { env: {} });
    expect((await whoAmI(client)).username).toBe(`system:serviceaccount:${sa.namespace}:${sa.name}`);
  });

  it('canI answers for the ServiceAccount', async () => {
    const sa = s.serviceAccounts.rayUser;
    const dir = tempDir();
    const view = await loadKubeconfig({
      env: { KUBECONFIG: writeKubeconfig(dir, { token: await createToken(sa.namespace, sa.name) }) },
      homedir: '/x',
      readFile: nodeReadTextFile,
    });
    const client = await createKubeClientFromContext(view, undefined, { env: {} });
    const secrets = await canI(client, { verb: 'delete', resource: 'namespaces' });
    expect(secrets.allowed).toBe(false);
    const rc = await canI(client, {
      verb: 'list',
      resource: 'rayclusters',
      group: 'ray.io',
      namespace: s.namespace,
    });
    expect(typeof rc.allowed).toBe('boolean');
  });

  it('in-cluster config from a service-account mount (paths injected)', async () => {
    const sa = s.serviceAccounts.rayUser;
    const dir = tempDir();
    writeFileSync(join(dir, 'token'), await createToken(sa.namespace, sa.name));
    writeFileSync(join(dir, 'ca.crt'), readFileSync(s.caFile));
    writeFileSync(join(dir, 'namespace'), sa.namespace);
    const url = new URL(s.apiServer);
    const cfg = await inClusterConfig({
      env: { KUBERNETES_SERVICE_HOST: url.hostname, KUBERNETES_SERVICE_PORT: url.port },
      readFile: nodeReadTextFile,
      dir,
    });
    expect(cfg).toBeDefined();
    const client = createKubeClient({
      server: cfg!.server,
      ca: cfg!.ca,
      credential: cfg!.credential,
      namespace: cfg!.namespace,
      env: {},
    });
    expect((await whoAmI(client)).username).toBe(`system:serviceaccount:${sa.namespace}:${sa.name}`);
  });
});
