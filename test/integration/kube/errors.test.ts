// Failures against the real API server map to their codes: wrong CA, unreachable port, rejected tokens, RBAC denial.
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { beforeAll, describe, expect, it } from 'vitest';
import { createKubeClient, secret, staticTokenSource, whoAmI } from '../../../packages/core/src/index.js';
import { closedPort, fakeJwt, sandbox } from './helpers.js';

describe('API server errors from the sandbox', () => {
  let s: ReturnType<typeof sandbox>;
  let adminToken: string;
  beforeAll(() => {
    s = sandbox();
    adminToken = readFileSync(s.staticUsers.admin!.tokenFile, 'utf8').trim();
  });

  it('the static admin token works (control)', async () => {
    const client = createKubeClient({
      server: s.apiServer,
      ca: s.ca,
      credential: staticTokenSource(secret(adminToken)),
      env: {},
    });
    expect((await whoAmI(client)).username).toBe(s.staticUsers.admin!.username);
  });

  it('a wrong CA is TLS_UNTRUSTED with the fix', async () => {
    const client = createKubeClient({
      server: s.apiServer,
      ca: rootCertificates[0],
      credential: staticTokenSource(secret(adminToken)),
      env: {},
    });
    const e = await whoAmI(client).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'TLS_UNTRUSTED', details: { url: s.apiServer } });
    expect((e as { fix: string }).fix).toContain('/etc/pki/tls/custom-certs/ca-bundle.crt');
    expect(JSON.stringify(e)).not.toContain(adminToken);
  });

  it('no CA (system roots) is TLS_UNTRUSTED too', async () => {
    const client = createKubeClient({
      server: s.apiServer,
      credential: staticTokenSource(secret(adminToken)),
      env: {},
    });
    await expect(whoAmI(client)).rejects.toMatchObject({ code: 'TLS_UNTRUSTED' });
  });

  it('a server name the certificate does not carry is TLS_UNTRUSTED (altname), not a trust-the-CA fix', async () => {
    const client = createKubeClient({
      server: s.apiServer,
      ca: s.ca,
      tlsServerName: 'not-in-the-cert.example',
      credential: staticTokenSource(secret(adminToken)),
      env: {},
    });
    const e = await whoAmI(client).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'TLS_UNTRUSTED', details: { tlsCode: 'ERR_TLS_CERT_ALTNAME_INVALID' } });
  });

  it('a host that does not resolve is CLUSTER_UNREACHABLE, not a TLS error', async () => {
    const port = new URL(s.apiServer).port;
    const client = createKubeClient({
      server: `https://api.cluster.invalid:${port}`,
      ca: s.ca,
      credential: staticTokenSource(secret(adminToken)),
      env: {},
    });
    await expect(whoAmI(client)).rejects.toMatchObject({
      code: 'CLUSTER_UNREACHABLE',
      details: { errno: 'ENOTFOUND' },
    });
  });

  it('a port nobody listens on is CLUSTER_UNREACHABLE naming the URL', async () => {
    const server = `https://127.0.0.1:${await closedPort()}`;
    const e = await whoAmI(
      createKubeClient({ server, ca: s.ca, credential: staticTokenSource(secret(adminToken)), env: {} }),
    ).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'CLUSTER_UNREACHABLE', details: { url: server, errno: 'ECONNREFUSED' } });
    expect((e as Error).message).toContain(server);
  });

  it('a garbage token is TOKEN_INVALID', async () => {
    const client = createKubeClient({
      server: s.apiServer,
      ca: s.ca,
      credential: staticTokenSource(secret('garbage-token')),
      env: {},
    });
    await expect(whoAmI(client)).rejects.toMatchObject({ code: 'TOKEN_INVALID', details: { status: 401 } });
  });

  it('a token whose exp has passed is TOKEN_EXPIRED', async () => {
    const client = createKubeClient({
      server: s.apiServer,
      ca: s.ca,
      credential: staticTokenSource(secret(fakeJwt(Math.floor(Date.now() / 1000) - 60))),
      env: {},
    });
    await expect(whoAmI(client)).rejects.toMatchObject({ code: 'TOKEN_EXPIRED' });
  });

  it('RBAC denial is ACCESS_DENIED with verb, resource, namespace and the API server message', async () => {
    const nobody = readFileSync(s.staticUsers.nobody!.tokenFile, 'utf8').trim();
    const client = createKubeClient({
      server: s.apiServer,
      ca: s.ca,
      credential: staticTokenSource(secret(nobody)),
      env: {},
    });
    const e = await client
      .request({ path: `/api/v1/namespaces/${s.namespace}/secrets` })
      .catch((x: unknown) => x);
    expect(e).toMatchObject({
      code: 'ACCESS_DENIED',
      details: {
        verb: 'list',
        resource: 'secrets',
        namespace: s.namespace,
        user: s.staticUsers.nobody!.username,
        status: 403,
      },
    });
    expect((e as { details: { apiMessage: string } }).details.apiMessage).toContain('forbidden');
  });
});
