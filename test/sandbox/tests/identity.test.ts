// Identity side of the sandbox: the OIDC provider behaves as the product expects (device flow, auth code + PKCE
// on a loopback port, rotating refresh tokens, claims in the id_token, OpenShift-style discovery), the apiserver
// accepts its tokens, and the KubeRay objects look like the operator made them. Uses only client.mjs and kubectl.
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { request } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approveDevice, browserLogin, kubectl, oidcLogin, oidcRefresh, readSandbox } from '../client.mjs';

const env = readSandbox();
const ca = readFileSync(env.caFile);

function https(
  url: string,
  form?: Record<string, string>,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const body = form ? new URLSearchParams(form).toString() : undefined;
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: form ? 'POST' : 'GET',
        ca,
        headers: form ? { 'content-type': 'application/x-www-form-urlencoded' } : {},
      },
      (res) => {
        let b = '';
        res.on('data', (c: Buffer) => (b += c.toString()));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, json: JSON.parse(b || '{}') as Record<string, unknown> }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const claims = (jwt: string) =>
  JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString()) as Record<string, unknown>;
const header = (jwt: string) =>
  JSON.parse(Buffer.from(jwt.split('.')[0] ?? '', 'base64url').toString()) as Record<string, unknown>;
const whoami = async (token: string) => {
  const r = await kubectl(['auth', 'whoami', '-o', 'json'], { token });
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { status: { userInfo: { username: string; groups?: string[] } } }).status
    .userInfo;
};
const canI = async (token: string, ...args: string[]) =>
  (await kubectl(['auth', 'can-i', ...args, '-n', env.namespace], { token })).stdout.trim();

describe('OIDC provider', () => {
  it('serves the same metadata at the OIDC and the OpenShift discovery paths', async () => {
    const oidc = await https(`${env.oidc.issuer}/.well-known/openid-configuration`);
    const openshift = await https(env.oidc.openshiftDiscovery);
    expect(oidc.status).toBe(200);
    expect(openshift.json).toEqual(oidc.json);
    expect(oidc.json.issuer).toBe(env.oidc.issuer);
    expect(oidc.json.device_authorization_endpoint).toBeTruthy();
  });

  it('device flow: id_token (RS256, aud kubernetes) carries email and groups; a refresh token is issued', async () => {
    const t = await oidcLogin('alice');
    expect(header(t.idToken).alg).toBe('RS256');
    expect(claims(t.idToken)).toMatchObject({
      iss: env.oidc.issuer,
      aud: env.oidc.clientId,
      sub: 'alice',
      email: 'alice@example.com',
      groups: ['ray-users'],
    });
    expect(t.refreshToken).toBeTruthy();
    expect(t.expiresIn).toBe(env.oidc.tokenTtlSeconds);
  });

  it('refuses a wrong password', async () => {
    await expect(oidcLogin('bob', { password: 'not-the-password' })).rejects.toThrow(/login refused/);
  });

  it('a denied device code ends in access_denied at the token endpoint', async () => {
    const da = await https(`${env.oidc.issuer}/device/auth`, {
      client_id: env.oidc.clientId,
      scope: 'openid',
    });
    await approveDevice({ userCode: String(da.json.user_code), user: 'alice', deny: true });
    const t = await https(`${env.oidc.issuer}/token`, {
      grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
      device_code: String(da.json.device_code),
      client_id: env.oidc.clientId,
    });
    expect(t.json.error).toBe('access_denied');
  });

  it('refresh tokens rotate; reusing the old one fails and revokes the grant', async () => {
    const t = await oidcLogin('alice');
    const next = await oidcRefresh(t.refreshToken ?? '');
    expect(next.refreshToken).toBeTruthy();
    expect(next.refreshToken).not.toBe(t.refreshToken);
    expect(claims(next.idToken).sub).toBe('alice');
    await expect(oidcRefresh(t.refreshToken ?? '')).rejects.toThrow(/invalid_grant/);
    await expect(oidcRefresh(next.refreshToken ?? '')).rejects.toThrow(/invalid_grant/);
  });

  describe('authorization code + PKCE with a loopback redirect on any port', () => {
    let server: Server;
    let port = 0;
    const received: string[] = [];
    beforeAll(async () => {
      server = createServer((req, res) => {
        received.push(req.url ?? '');
        res.end('done');
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const a = server.address();
      port = typeof a === 'object' && a ? a.port : 0;
    });
    afterAll(() => new Promise<void>((r) => server.close(() => r())));

    async function codeFlow(prompt?: string) {
      const verifier = randomBytes(32).toString('base64url');
      const redirect = `http://127.0.0.1:${port}/callback`;
      const u = new URL(`${env.oidc.issuer}/auth`);
      const params: Record<string, string> = {
        client_id: env.oidc.clientId,
        response_type: 'code',
        scope: 'openid offline_access email',
        redirect_uri: redirect,
        code_challenge: createHash('sha256').update(verifier).digest('base64url'),
        code_challenge_method: 'S256',
        state: randomBytes(8).toString('hex'),
        ...(prompt ? { prompt } : {}),
      };
      for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
      const r = await browserLogin(u.href, { user: 'bob' });
      expect(r.status).toBe(200);
      const cb = new URL(received.at(-1) ?? '', redirect);
      expect(cb.pathname).toBe('/callback');
      expect(cb.searchParams.get('state')).toBe(params.state);
      return https(`${env.oidc.issuer}/token`, {
        grant_type: 'authorization_code',
        code: cb.searchParams.get('code') ?? '',
        redirect_uri: redirect,
        client_id: env.oidc.clientId,
        code_verifier: verifier,
      });
    }

    it('with prompt=consent: tokens including a refresh token; the apiserver maps bob to oidc:bob', async () => {
      const t = await codeFlow('consent');
      expect(t.status, JSON.stringify(t.json)).toBe(200);
      expect(t.json.refresh_token).toBeTruthy();
      expect((await whoami(String(t.json.id_token))).username).toBe('oidc:bob');
    });

    it('without prompt=consent oidc-provider drops offline_access: no refresh token', async () => {
      const t = await codeFlow();
      expect(t.status, JSON.stringify(t.json)).toBe(200);
      expect(t.json.refresh_token).toBeUndefined();
    });
  });
});

describe('Kubernetes identities', () => {
  let alice: Awaited<ReturnType<typeof oidcLogin>>;
  let bob: Awaited<ReturnType<typeof oidcLogin>>;
  beforeAll(async () => {
    alice = await oidcLogin('alice');
    bob = await oidcLogin('bob');
  });

  it('the opaque access token (OpenShift-style) is accepted through the token webhook as the same user', async () => {
    expect(alice.accessToken.split('.')).toHaveLength(1);
    const u = await whoami(alice.accessToken);
    expect(u.username).toBe('oidc:alice');
    expect(u.groups).toContain('oidc:ray-users');
  });

  it('bob may list RayClusters but not read Secrets nor port-forward', async () => {
    expect(await canI(bob.idToken, 'list', 'rayclusters.ray.io')).toBe('yes');
    expect(await canI(bob.idToken, 'get', 'secrets')).toBe('no');
    expect(await canI(bob.idToken, 'create', 'pods', '--subresource=portforward')).toBe('no');
  });

  it('alice may read Secrets and port-forward', async () => {
    expect(await canI(alice.idToken, 'get', 'secrets')).toBe('yes');
    expect(await canI(alice.idToken, 'create', 'pods', '--subresource=portforward')).toBe('yes');
  });

  it('static token users: static-ray-user has ray:write, static-nobody cannot list RayClusters', async () => {
    const tok = (k: 'rayUser' | 'nobody') => readFileSync(env.staticUsers[k].tokenFile, 'utf8').trim();
    expect((await whoami(tok('rayUser'))).username).toBe('static-ray-user');
    expect(await canI(tok('rayUser'), 'ray:write', `rayclusters.ray.io/${env.rayClusters.rbac}`)).toBe('yes');
    expect(await canI(tok('nobody'), 'list', 'rayclusters.ray.io')).toBe('no');
  });
});

describe('KubeRay objects (as the operator would have made them)', () => {
  type RC = {
    metadata: { name: string; uid: string };
    spec: {
      authOptions?: Record<string, unknown>;
      headGroupSpec: { template: { spec: { containers: { env?: unknown[] }[] } } };
    };
    status: {
      state: string;
      head: { podName: string; serviceName: string };
      conditions: { type: string; status: string }[];
      endpoints: Record<string, string>;
    };
  };
  let clusters: Record<string, RC>;
  beforeAll(async () => {
    const r = await kubectl(['get', 'rayclusters.ray.io', '-n', env.namespace, '-o', 'json']);
    clusters = Object.fromEntries(
      (JSON.parse(r.stdout) as { items: RC[] }).items.map((c) => [c.metadata.name, c]),
    );
  });

  it('every RayCluster is ready with its head pod and Service', async () => {
    for (const name of Object.values(env.rayClusters)) {
      const c = clusters[name];
      expect(c, name).toBeDefined();
      expect(c?.status.state).toBe('ready');
      expect(c?.status.conditions.find((x) => x.type === 'HeadPodReady')?.status).toBe('True');
      expect(c?.status.head.serviceName).toBe(`${name}-head-svc`);
      expect(c?.status.endpoints.dashboard).toBe('8265');
      const pod = await kubectl([
        'get',
        'pod',
        c?.status.head.podName ?? '',
        '-n',
        env.namespace,
        '-o',
        'jsonpath={.metadata.labels}',
      ]);
      expect(JSON.parse(pod.stdout)).toMatchObject({ 'ray.io/cluster': name, 'ray.io/node-type': 'head' });
    }
  });

  it('auth shapes: generated Secret named after the cluster and owned by it; authOptions {} still has a Secret', async () => {
    expect(clusters[env.rayClusters.token]?.spec.authOptions).toEqual({ mode: 'token' });
    expect(clusters[env.rayClusters.emptyAuth]?.spec.authOptions).toEqual({});
    expect(clusters[env.rayClusters.legacy]?.spec.authOptions).toBeUndefined();
    expect(clusters[env.rayClusters.rbac]?.spec.authOptions).toEqual({
      mode: 'token',
      enableK8sTokenAuth: true,
    });
    const s = await kubectl(['get', 'secret', env.rayClusters.token, '-n', env.namespace, '-o', 'json']);
    const secret = JSON.parse(s.stdout) as {
      metadata: { labels: Record<string, string>; ownerReferences: { uid: string }[] };
    };
    expect(secret.metadata.labels['ray.io/cluster']).toBe(env.rayClusters.token);
    expect(secret.metadata.ownerReferences[0]?.uid).toBe(clusters[env.rayClusters.token]?.metadata.uid);
    const e = await kubectl(['get', 'secret', env.rayClusters.emptyAuth, '-n', env.namespace, '-o', 'name']);
    expect(e.code, e.stderr).toBe(0);
    const legacyEnv = JSON.stringify(
      clusters[env.rayClusters.legacy]?.spec.headGroupSpec.template.spec.containers[0]?.env,
    );
    expect(legacyEnv).toContain('secretKeyRef');
  });
});
