// OpenShift AI fronting against real components: kube-rbac-proxy (built from the Go module proxy) on 127.0.0.1 with a
// sandbox-CA certificate in front of the sandbox's no-auth Ray head, delegating TokenReview / SubjectAccessReview to
// the sandbox API server; the real Gateway API and OpenShift Route CRDs; a RayCluster, HTTPRoute and Gateway shaped
// as the ODH KubeRay operator makes them (RHOAI 3.x), and a CodeFlare-style Route (RHOAI 2.x). The CLI runs in a
// private mount namespace whose /etc/hosts names the gateway host, as DNS would on a real cluster.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken, kubectl, readSandbox, writeUserKubeconfig } from '../../sandbox/client.mjs';
import { inMountNamespace, mountNamespaceUnavailable } from '../cli/mountNamespace.js';
import {
  ensureKubeRbacProxy,
  installFrontingCrds,
  type Running,
  startGateway,
  startKubeRbacProxy,
} from './fronting.js';
import { cliBin, cliEnv, rayVenv, run, type Run, tempDir, userKubeconfig } from './helpers.js';

const NS = 'rc-it-fronting';
const PLATFORM = 'opendatahub'; // the ODH operator's APPLICATION_NAMESPACE
const GATEWAY_NS = 'openshift-ingress';
const CLUSTER = 'fronted'; // RHOAI 3.x: kube-rbac-proxy + HTTPRoute
const CODEFLARE = 'fronted-codeflare'; // RHOAI 2.x: Route ray-dashboard-<c>
const HOST = 'data-science-gateway.apps.sandbox.test';
const PREFIX = `/ray/${NS}/${CLUSTER}`;
const ROUTE_HOST = `ray-dashboard-${CODEFLARE}-${NS}.apps.sandbox.test`;

interface Env {
  caFile: string;
  rayHeads: Record<string, { url: string }>;
}

async function apply(objects: unknown[]): Promise<void> {
  const r = await kubectl(['apply', '--server-side', '--force-conflicts', '-f', '-'], {
    input: objects.map((o) => JSON.stringify(o)).join('\n'),
  });
  if (r.code !== 0) throw new Error(`kubectl apply: ${r.stderr}`);
}

const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');
const condition = (type: string, reason: string) => ({
  type,
  status: 'True',
  reason,
  message: '',
  lastTransitionTime: now(),
  observedGeneration: 1,
});

function rayCluster(name: string, annotations: Record<string, string>) {
  return {
    apiVersion: 'ray.io/v1',
    kind: 'RayCluster',
    metadata: { name, namespace: NS, annotations },
    spec: {
      rayVersion: '2.52.0',
      headGroupSpec: {
        rayStartParams: { 'dashboard-host': '0.0.0.0' },
        enableIngress: false,
        template: {
          spec: { containers: [{ name: 'ray-head', image: 'quay.io/modh/ray:2.52.0-py311-cu121' }] },
        },
      },
      workerGroupSpecs: [],
    },
  };
}

async function setReady(name: string, extra: Record<string, unknown>[] = []): Promise<void> {
  const status = {
    state: 'ready',
    observedGeneration: 1,
    head: { podName: `${name}-head-abcde`, serviceName: `${name}-head-svc` },
    conditions: [
      condition('HeadPodReady', 'HeadPodRunningAndReady'),
      condition('RayClusterProvisioned', 'AllPodRunningAndReadyFirstTime'),
      ...extra,
    ],
  };
  const r = await kubectl([
    'patch',
    'rayclusters.ray.io',
    name,
    '-n',
    NS,
    '--subresource=status',
    '--type=merge',
    '-p',
    JSON.stringify({ status }),
  ]);
  if (r.code !== 0) throw new Error(`status of ${name}: ${r.stderr}`);
}

const role = (ns: string, name: string, rules: unknown[]) => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'Role',
  metadata: { name, namespace: ns },
  rules,
});
const binding = (ns: string, name: string, users: string[]) => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'RoleBinding',
  metadata: { name, namespace: ns },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
  subjects: users.map((u) => ({ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: u })),
});

/** The objects an ODH / CodeFlare operator (and an admin's RBAC) would have made. Idempotent. */
async function applyObjects(gatewayPort: number): Promise<void> {
  await apply(
    [NS, PLATFORM, GATEWAY_NS].map((n) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: n } })),
  );
  await apply([
    // the proxy's own identity: create tokenreviews + subjectaccessreviews (sandbox ClusterRole ray-authenticator)
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'kube-rbac-proxy', namespace: NS } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: `${NS}-kube-rbac-proxy` },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'ray-authenticator' },
      subjects: [{ kind: 'ServiceAccount', name: 'kube-rbac-proxy', namespace: NS }],
    },
    rayCluster(CLUSTER, { 'odh.ray.io/secure-trusted-network': 'true' }),
    rayCluster(CODEFLARE, {}),
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: `${CLUSTER}-head-svc`, namespace: NS, labels: { 'ray.io/cluster': CLUSTER } },
      spec: {
        clusterIP: 'None',
        selector: { 'ray.io/cluster': CLUSTER, 'ray.io/node-type': 'head' },
        ports: [{ name: 'dashboard', port: 8265, targetPort: 8443 }],
      },
    },
    // alice and bob may see RayClusters; only alice may use the dashboard (what kube-rbac-proxy checks)
    role(NS, 'rc-it-raycluster-viewer', [
      { apiGroups: ['ray.io'], resources: ['rayclusters'], verbs: ['get', 'list', 'watch'] },
    ]),
    binding(NS, 'rc-it-raycluster-viewer', ['oidc:alice', 'oidc:bob']),
    role(NS, `ray-dashboard-${CLUSTER}`, [
      // GET -> get; upstream kube-rbac-proxy takes the verb from the method, so job submit (POST) needs create
      {
        apiGroups: [''],
        resources: ['services'],
        resourceNames: [`${CLUSTER}-head-svc`],
        verbs: ['get', 'create', 'delete'],
      },
    ]),
    binding(NS, `ray-dashboard-${CLUSTER}`, ['oidc:alice']),
    // the ODH HTTPRoute (authentication_controller.go ensureHttpRoute): platform namespace, no hostnames
    {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: {
        name: `${NS}-${CLUSTER}`,
        namespace: PLATFORM,
        labels: { 'ray.io/cluster-namespace': NS, 'ray.io/cluster-name': CLUSTER, 'ray.io/cluster': CLUSTER },
      },
      spec: {
        parentRefs: [
          {
            group: 'gateway.networking.k8s.io',
            kind: 'Gateway',
            name: 'data-science-gateway',
            namespace: GATEWAY_NS,
          },
        ],
        rules: [
          {
            matches: [{ path: { type: 'Exact', value: PREFIX } }],
            filters: [
              {
                type: 'RequestRedirect',
                requestRedirect: {
                  path: { type: 'ReplaceFullPath', replaceFullPath: `${PREFIX}/#/` },
                  statusCode: 302,
                },
              },
            ],
          },
          {
            matches: [{ path: { type: 'PathPrefix', value: PREFIX } }],
            backendRefs: [
              {
                group: '',
                kind: 'Service',
                name: `${CLUSTER}-head-svc`,
                namespace: NS,
                port: 8265,
                weight: 1,
              },
            ],
            filters: [
              {
                type: 'URLRewrite',
                urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/' } },
              },
            ],
          },
        ],
      },
    },
    {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'Gateway',
      metadata: { name: 'data-science-gateway', namespace: GATEWAY_NS },
      spec: {
        gatewayClassName: 'data-science-gateway-class',
        listeners: [
          {
            name: 'https',
            hostname: HOST,
            port: gatewayPort,
            protocol: 'HTTPS',
            tls: {
              mode: 'Terminate',
              certificateRefs: [{ kind: 'Secret', name: 'data-science-gateway-tls' }],
            },
            allowedRoutes: { namespaces: { from: 'All' } },
          },
        ],
      },
    },
    // users may list the platform's HTTPRoutes and read the Gateway (no cluster-wide HTTPRoute list)
    role(PLATFORM, 'rc-it-httproute-reader', [
      { apiGroups: ['gateway.networking.k8s.io'], resources: ['httproutes'], verbs: ['get', 'list'] },
    ]),
    binding(PLATFORM, 'rc-it-httproute-reader', ['oidc:alice', 'oidc:bob']),
    role(GATEWAY_NS, 'rc-it-gateway-reader', [
      { apiGroups: ['gateway.networking.k8s.io'], resources: ['gateways'], verbs: ['get'] },
    ]),
    binding(GATEWAY_NS, 'rc-it-gateway-reader', ['oidc:alice', 'oidc:bob']),
    // RHOAI 2.x CodeFlare: Route ray-dashboard-<c> (reencrypt) in the cluster's namespace
    {
      apiVersion: 'route.openshift.io/v1',
      kind: 'Route',
      metadata: {
        name: `ray-dashboard-${CODEFLARE}`,
        namespace: NS,
        labels: { 'ray.openshift.ai/cluster-name': CODEFLARE },
      },
      spec: {
        host: ROUTE_HOST,
        to: { kind: 'Service', name: `${CODEFLARE}-head-svc` },
        port: { targetPort: 'dashboard' },
        tls: { termination: 'reencrypt' },
      },
    },
    // CodeFlare's oauth-proxy SAR: get pods in the namespace (alice yes, bob no)
    role(NS, 'rc-it-pod-reader', [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }]),
    binding(NS, 'rc-it-pod-reader', ['oidc:alice']),
    role(NS, 'rc-it-route-reader', [
      { apiGroups: ['route.openshift.io'], resources: ['routes'], verbs: ['get', 'list'] },
    ]),
    binding(NS, 'rc-it-route-reader', ['oidc:alice', 'oidc:bob']),
  ]);
  await setReady(CLUSTER, [condition('AuthenticationReady', 'AuthenticationResourcesCreated')]);
  await setReady(CODEFLARE);
}

describe('OpenShift AI fronting: kube-rbac-proxy behind an ODH HTTPRoute (sandbox)', () => {
  const s = readSandbox() as unknown as Env;
  const dir = tempDir('rc-fronting-');
  let skip: string | undefined;
  let proxy: Running | undefined;
  let gateway: (Running & { requests: { path: string; authorized: boolean; status: number }[] }) | undefined;
  let hosts: string;
  let alice: string;
  let bob: string;
  let bin: string;
  let proxyKubeconfig: string;

  beforeAll(async () => {
    skip = mountNamespaceUnavailable();
    if (skip) return;
    try {
      bin = await ensureKubeRbacProxy();
    } catch (e) {
      skip = `kube-rbac-proxy could not be built: ${(e as Error).message}`;
      return;
    }
    await installFrontingCrds();
    const ca = readFileSync(s.caFile, 'utf8');
    // the gateway's port is known before the Gateway object is written (its listener port)
    proxyKubeconfig = join(dir, 'kube-rbac-proxy.kubeconfig');
    await apply([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } }]);
    await apply([
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'kube-rbac-proxy', namespace: NS } },
    ]);
    writeUserKubeconfig(proxyKubeconfig, { token: await createToken(NS, 'kube-rbac-proxy') });
    proxy = await startKubeRbacProxy({
      bin,
      dir,
      upstream: `${s.rayHeads.noauth?.url ?? 'http://127.0.0.1:18267'}/`,
      // The ODH operator's ConfigMap asks for get on services/<c>-head-svc; upstream kube-rbac-proxy spells the
      // name `name` (the verb comes from the HTTP method: GET -> get) and is given the namespace explicitly.
      config: [
        'authorization:',
        '  resourceAttributes:',
        `    namespace: ${NS}`,
        '    apiGroup: ""',
        '    apiVersion: v1',
        '    resource: services',
        `    name: ${CLUSTER}-head-svc`,
        '',
      ].join('\n'),
      kubeconfig: proxyKubeconfig,
    });
    gateway = await startGateway({
      dir,
      hostname: HOST,
      prefix: PREFIX,
      backend: { port: proxy.port, ca, servername: 'localhost' },
    });
    await applyObjects(gateway.port);
    hosts = join(dir, 'hosts');
    writeFileSync(hosts, `${readFileSync('/etc/hosts', 'utf8')}\n127.0.0.1 ${HOST} ${ROUTE_HOST}\n`);
    [alice, bob] = await Promise.all([userKubeconfig('alice', dir), userKubeconfig('bob', dir)]);
  }, 1_800_000);

  afterAll(async () => {
    await gateway?.stop();
    await proxy?.stop();
  });

  /** The CLI with /etc/hosts naming the gateway host, the sandbox CA trusted for routes (as codeflare-sdk's). */
  function cliIn(env: NodeJS.ProcessEnv, args: string[]): Promise<Run> {
    const [cmd, argv] = inMountNamespace([{ source: hosts, target: '/etc/hosts' }], process.execPath, [
      cliBin,
      ...args,
    ]);
    return run(cmd, argv, env);
  }
  const cli = (kubeconfig: string, args: string[]) =>
    cliIn({ ...cliEnv(kubeconfig), CF_SDK_CA_CERT_PATH: s.caFile }, args);

  it('alice lists the ODH cluster as fronted by its HTTPRoute (Gateway host and port) and the CodeFlare one by its Route', async (ctx) => {
    if (skip) return ctx.skip(skip);
    const r = await cli(alice, ['clusters', '--namespace', NS, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const list = JSON.parse(r.stdout) as { items: { name: string; frontedBy?: unknown; state: string }[] };
    const byName = Object.fromEntries(list.items.map((i) => [i.name, i]));
    expect(byName[CLUSTER]).toMatchObject({
      state: 'ready',
      frontedBy: { kind: 'odh-httproute', url: `https://${HOST}:${gateway?.port}${PREFIX}` },
    });
    expect(byName[CODEFLARE]?.frontedBy).toEqual({
      kind: 'openshift-route',
      url: `https://${ROUTE_HOST}`,
    });
    const table = await cli(alice, ['clusters', '--namespace', NS]);
    expect(table.stdout).toMatch(new RegExp(`${CLUSTER}\\s+ready\\s+\\S+ via odh-httproute`));
  });

  it('alice connects through the proxy URL with her own token: no port-forward, Ray answers /api/version', async (ctx) => {
    if (skip) return ctx.skip(skip);
    const [cmd, argv] = inMountNamespace([{ source: hosts, target: '/etc/hosts' }], process.execPath, [
      cliBin,
      'connect',
      CLUSTER,
      '--namespace',
      NS,
      '--json',
    ]);
    const env = { ...cliEnv(alice), CF_SDK_CA_CERT_PATH: s.caFile };
    const child = spawn(cmd, argv, {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
    const line = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', () => {
        const found = stdout.split('\n').find((l) => l.startsWith('{"connection"'));
        if (found) resolve(found);
      });
      void exited.then((code) => reject(new Error(`connect exited ${code}: ${stderr}`)));
    });
    const url = `https://${HOST}:${gateway?.port}${PREFIX}`;
    const connected = JSON.parse(line) as { connection: Record<string, unknown>; envNames: string[] };
    expect(connected.connection).toMatchObject({ state: 'ready', dashboardUrl: url });
    expect(connected.connection.clientAddress).toBeUndefined(); // no port-forward at all
    expect(connected.envNames).toEqual(expect.arrayContaining(['RAY_ADDRESS', 'RAY_AUTH_TOKEN']));
    // connect itself went through gateway -> kube-rbac-proxy -> Ray with a token, and was let through
    expect(gateway?.requests).toContainEqual({
      path: `${PREFIX}/api/version`,
      authorized: true,
      status: 200,
    });

    // Ray's own job client with the env `ray-connect env` hands out, through gateway -> kube-rbac-proxy -> Ray
    const envOut = await cliIn(env, ['env', CLUSTER, '--namespace', NS, '--format', 'json']);
    expect(envOut.code, envOut.stderr).toBe(0);
    const session = (JSON.parse(envOut.stdout) as { env: Record<string, string> }).env;
    expect(session).toMatchObject({ RAY_ADDRESS: url, RAY_AUTH_MODE: 'token' });
    const marker = `fronted-job-${Date.now()}`;
    const [rayCmd, rayArgv] = inMountNamespace(
      [{ source: hosts, target: '/etc/hosts' }],
      join(rayVenv, 'bin', 'ray'),
      ['job', 'submit', '--', 'python', '-c', `print('${marker}')`],
    );
    const job = await run(rayCmd, rayArgv, {
      PATH: `${join(rayVenv, 'bin')}:${process.env.PATH}`,
      HOME: tempDir('rc-rayhome-'),
      // Ray's clients (requests, aiohttp) trust the route's CA through the usual variables
      REQUESTS_CA_BUNDLE: s.caFile,
      SSL_CERT_FILE: s.caFile,
      ...session,
    });
    expect(job.code, job.stdout + job.stderr).toBe(0);
    expect(job.stdout).toContain(marker);
    expect(gateway?.requests).toContainEqual({ path: `${PREFIX}/api/jobs/`, authorized: true, status: 200 });

    child.kill('SIGINT');
    expect(await exited).toBe(0);

    // the same path by hand: alice's token is accepted and Ray answers; no token is refused by the proxy
    const aliceToken = (JSON.parse(readFileSync(alice, 'utf8')) as { users: { user: { token: string } }[] })
      .users[0]?.user.token;
    const viaGateway = (headers: Record<string, string>) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request(
          {
            host: '127.0.0.1',
            port: gateway?.port,
            servername: HOST,
            path: `${PREFIX}/api/version`,
            headers: { ...headers, host: `${HOST}:${gateway?.port}` },
            ca: readFileSync(s.caFile),
            agent: false,
          },
          (res) => {
            let body = '';
            res.on('data', (c) => (body += c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          },
        );
        req.on('error', reject);
        req.end();
      });
    const ok = await viaGateway({ authorization: `Bearer ${aliceToken}` });
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toHaveProperty('ray_version');
    expect((await viaGateway({})).status).toBe(401);
    expect(proxy?.log()).not.toContain(aliceToken);
  });

  it('bob (may list, may not get services/<c>-head-svc) gets ACCESS_DENIED naming that RBAC, no stack trace', async (ctx) => {
    if (skip) return ctx.skip(skip);
    const r = await cli(bob, ['connect', CLUSTER, '--namespace', NS]);
    expect(r.code, r.stderr).toBe(4);
    expect(r.stderr).toMatch(
      new RegExp(
        `kube-rbac-proxy\\) requires get on services/${CLUSTER}-head-svc in ${NS}[\\s\\S]*kubectl create role ray-dashboard-${CLUSTER} -n ${NS} --verb=get,create,delete --resource=services --resource-name=${CLUSTER}-head-svc[\\s\\S]*--user=oidc:bob`,
      ),
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(gateway?.requests).toContainEqual({
      path: `${PREFIX}/api/version`,
      authorized: true,
      status: 403,
    });
  });
  describe('CodeFlare Route (RHOAI 2.x): the proxy behind the Route on port 443', () => {
    let routeProxy: Running | undefined;
    let busy: string | undefined;

    beforeAll(async () => {
      if (skip) return;
      // A Route's URL has no port: the proxy must answer on 443 (root, 127.0.0.1), like the router would.
      const { createServer } = await import('node:net');
      busy = await new Promise<string | undefined>((resolve) => {
        const probe = createServer();
        probe.once('error', (e) => resolve(`127.0.0.1:443 is in use (${(e as NodeJS.ErrnoException).code})`));
        probe.listen(443, '127.0.0.1', () => probe.close(() => resolve(undefined)));
      });
      if (busy) return;
      // kube-rbac-proxy stands in for CodeFlare's oauth-proxy and asks what it asks: get pods in the namespace
      routeProxy = await startKubeRbacProxy({
        bin,
        dir,
        port: 443,
        names: [ROUTE_HOST],
        upstream: `${s.rayHeads.noauth?.url ?? 'http://127.0.0.1:18267'}/`,
        config: [
          'authorization:',
          '  resourceAttributes:',
          `    namespace: ${NS}`,
          '    apiVersion: v1',
          '    resource: pods',
          '',
        ].join('\n'),
        kubeconfig: proxyKubeconfig,
      });
    }, 120_000);

    afterAll(async () => {
      await routeProxy?.stop();
    });

    it('alice connects through the Route with her token; bob gets ACCESS_DENIED naming get pods', async (ctx) => {
      if (skip) return ctx.skip(skip);
      if (busy) return ctx.skip(busy);
      const [cmd, argv] = inMountNamespace([{ source: hosts, target: '/etc/hosts' }], process.execPath, [
        cliBin,
        'connect',
        CODEFLARE,
        '--namespace',
        NS,
        '--json',
      ]);
      const child = spawn(cmd, argv, {
        env: { ...cliEnv(alice), CF_SDK_CA_CERT_PATH: s.caFile },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c) => (stdout += c));
      child.stderr.on('data', (c) => (stderr += c));
      const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
      const line = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', () => {
          const found = stdout.split('\n').find((l) => l.startsWith('{"connection"'));
          if (found) resolve(found);
        });
        void exited.then((code) => reject(new Error(`connect exited ${code}: ${stderr}`)));
      });
      expect((JSON.parse(line) as { connection: unknown }).connection).toMatchObject({
        state: 'ready',
        dashboardUrl: `https://${ROUTE_HOST}`,
      });
      child.kill('SIGINT');
      expect(await exited).toBe(0);

      const denied = await cli(bob, ['connect', CODEFLARE, '--namespace', NS]);
      expect(denied.code, denied.stderr).toBe(4);
      expect(denied.stderr).toMatch(
        new RegExp(
          `oauth-proxy\\) requires get on pods in ${NS}[\\s\\S]*--verb=get --resource=pods && kubectl create rolebinding ray-dashboard-${CODEFLARE} -n ${NS} --role=ray-dashboard-${CODEFLARE} --user=oidc:bob`,
        ),
      );
      expect(denied.stderr).not.toMatch(/\n\s+at /);
      const aliceToken = (JSON.parse(readFileSync(alice, 'utf8')) as { users: { user: { token: string } }[] })
        .users[0]?.user.token;
      expect(routeProxy?.log()).not.toContain(aliceToken);
    });
  });
});
