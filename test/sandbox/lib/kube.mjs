// etcd, kube-apiserver and kwok (the fake kubelet): configs, kubeconfigs, start and readiness.
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { httpsGet } from './oidc.mjs';
import { pki } from './pki.mjs';
import { DEFAULT_POD_CIDR } from './podnet.mjs';
import { bin, paths, readJson, run, runningPid, sandboxRoot, say, startDaemon, waitFor, writePrivate } from './util.mjs';

export const kubeconfigs = {
  admin: join(paths.kubeconfigs, 'admin.kubeconfig'),
};
export const staticTokensCsv = join(paths.secrets, 'static-tokens.csv');
const authnConfig = join(paths.config, 'authentication-config.yaml');
const webhookConfig = join(paths.config, 'token-webhook.kubeconfig');
const kwokConfig = join(paths.config, 'kwok.yaml');
export const vendor = join(sandboxRoot, 'testdata');

/** Static bearer-token users (--token-auth-file), tokens generated once, one 0600 file each. */
export const STATIC_USERS = {
  admin: { username: 'static-admin', groups: ['system:masters'] },
  rayUser: { username: 'static-ray-user', groups: ['static:ray-users'] },
  nobody: { username: 'static-nobody', groups: [] },
};
export const staticTokenFile = (key) => join(paths.secrets, `static-${key}.token`);

function ensureStaticTokens() {
  const lines = [];
  for (const [key, u] of Object.entries(STATIC_USERS)) {
    const f = staticTokenFile(key);
    if (!existsSync(f)) writePrivate(f, randomBytes(24).toString('base64url'));
    const token = readFileSync(f, 'utf8').trim();
    lines.push(`${token},${u.username},${u.username},"${u.groups.join(',')}"`);
  }
  writePrivate(staticTokensCsv, lines.join('\n') + '\n');
}

export function writeKubeconfig(file, { server, user, context = 'sandbox', namespace }) {
  const cfg = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'ray-connect-sandbox', cluster: { server, 'certificate-authority': pki.ca } }],
    users: [{ name: context, user }],
    contexts: [{ name: context, context: { cluster: 'ray-connect-sandbox', user: context, ...(namespace ? { namespace } : {}) } }],
    'current-context': context,
  };
  writePrivate(file, JSON.stringify(cfg, null, 2));
}

/** kubectl as the sandbox admin (client cert, system:masters). `input` is stdin (manifests, secrets). */
export function kubectl(args, { input, allowFail, kubeconfig = kubeconfigs.admin } = {}) {
  return run(bin('kubectl'), ['--kubeconfig', kubeconfig, ...args], { input, allowFail });
}

// ---------------------------------------------------------------- etcd
export async function startEtcd(ports) {
  const url = `http://127.0.0.1:${ports.etcd}`;
  if (runningPid('etcd')) {
    say(`etcd: already running on ${url}`);
  } else {
    say(`etcd: starting on ${url}`);
    startDaemon('etcd', bin('etcd'), [
      '--name=sandbox',
      `--data-dir=${join(paths.data, 'etcd')}`,
      `--listen-client-urls=${url}`,
      `--advertise-client-urls=${url}`,
      `--listen-peer-urls=http://127.0.0.1:${ports.etcdPeer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${ports.etcdPeer}`,
      `--initial-cluster=sandbox=http://127.0.0.1:${ports.etcdPeer}`,
      '--unsafe-no-fsync',
      '--quota-backend-bytes=1073741824',
      '--log-level=warn',
    ]);
  }
  await waitFor('etcd /health', () => httpGetJson(`${url}/health`).then((j) => j?.health === 'true'), { timeoutMs: 30_000, logName: 'etcd' });
  return url;
}

function httpGetJson(url) {
  return new Promise((res, rej) => {
    const req = httpRequest(url, { timeout: 3000 }, (r) => {
      let b = '';
      r.on('data', (c) => (b += c));
      r.on('end', () => {
        try {
          res(JSON.parse(b));
        } catch (e) {
          rej(e);
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', rej);
    req.end();
  });
}

// ---------------------------------------------------------------- kube-apiserver
function writeApiserverConfigs(oidc) {
  const ca = readFileSync(pki.ca, 'utf8');
  // StructuredAuthenticationConfiguration (GA in 1.34: apiserver.config.k8s.io/v1). JSON is valid YAML.
  const authn = {
    apiVersion: 'apiserver.config.k8s.io/v1',
    kind: 'AuthenticationConfiguration',
    jwt: [
      {
        issuer: { url: oidc.issuer, audiences: [oidc.clientId], certificateAuthority: ca },
        claimMappings: {
          username: { claim: 'sub', prefix: 'oidc:' },
          groups: { claim: 'groups', prefix: 'oidc:' },
        },
      },
    ],
  };
  writeFileSync(authnConfig, JSON.stringify(authn, null, 2));
  // Token webhook: the OIDC server's opaque access tokens (an OpenShift-style `oc whoami -t` stand-in).
  writeFileSync(
    webhookConfig,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'oidc', cluster: { server: `${oidc.issuer}/tokenreview`, 'certificate-authority': pki.ca } }],
      users: [{ name: 'apiserver', user: {} }],
      contexts: [{ name: 'webhook', context: { cluster: 'oidc', user: 'apiserver' } }],
      'current-context': 'webhook',
    }),
  );
  ensureStaticTokens();
}

export async function startApiserver(ports, etcdUrl, oidc) {
  const server = `https://127.0.0.1:${ports.apiserver}`;
  writeKubeconfig(kubeconfigs.admin, { server, user: { 'client-certificate': pki.admin.cert, 'client-key': pki.admin.key }, context: 'sandbox-admin' });
  writeApiserverConfigs(oidc);
  if (runningPid('kube-apiserver')) {
    say(`kube-apiserver: already running on ${server}`);
  } else {
    say(`kube-apiserver: starting on ${server}`);
    startDaemon('kube-apiserver', bin('kube-apiserver'), [
      `--etcd-servers=${etcdUrl}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${ports.apiserver}`,
      `--tls-cert-file=${pki.apiserver.cert}`,
      `--tls-private-key-file=${pki.apiserver.key}`,
      `--client-ca-file=${pki.ca}`,
      `--token-auth-file=${staticTokensCsv}`,
      `--authentication-config=${authnConfig}`,
      `--authentication-token-webhook-config-file=${webhookConfig}`,
      '--authentication-token-webhook-cache-ttl=10s',
      '--authorization-mode=RBAC',
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-signing-key-file=${pki.saKey}`,
      `--service-account-key-file=${pki.saPub}`,
      '--service-cluster-ip-range=10.96.0.0/12',
      '--endpoint-reconciler-type=none',
      '--kubelet-preferred-address-types=InternalIP,Hostname',
      `--kubelet-client-certificate=${pki.kubeletClient.cert}`,
      `--kubelet-client-key=${pki.kubeletClient.key}`,
      `--kubelet-certificate-authority=${pki.ca}`,
      '--disable-admission-plugins=ServiceAccount',
      '--allow-privileged=true',
      '--enable-priority-and-fairness=false',
      '--profiling=false',
      '--v=1',
    ]);
  }
  await waitFor(
    'kube-apiserver /readyz',
    async () => {
      const r = await httpsGet(`${server}/readyz`);
      return r.status === 200;
    },
    { timeoutMs: 120_000, intervalMs: 500, logName: 'kube-apiserver' },
  );
  return server;
}

// ---------------------------------------------------------------- kwok (fake kubelet)
function writeKwokConfig() {
  // options come from flags (a KwokConfiguration document here would replace the defaults, e.g. parallelism)
  const docs = [];
  const stageDir = join(vendor, 'kwok-v0.8.0', 'stage');
  for (const f of readdirSync(stageDir).sort()) docs.push(readFileSync(join(stageDir, f), 'utf8'));
  writeFileSync(kwokConfig, docs.join('\n---\n'));
}

export async function startKwok(ports) {
  writeKwokConfig();
  if (runningPid('kwok')) {
    say(`kwok: already running (kubelet on 127.0.0.1:${ports.kwok})`);
  } else {
    say(`kwok: starting as fake kubelet on 127.0.0.1:${ports.kwok}`);
    startDaemon('kwok', bin('kwok'), [
      `--kubeconfig=${kubeconfigs.admin}`,
      `--config=${kwokConfig}`,
      '--manage-all-nodes=true',
      '--node-ip=127.0.0.1',
      `--node-port=${ports.kwok}`,
      `--server-address=127.0.0.1:${ports.kwok}`,
      `--tls-cert-file=${pki.kubelet.cert}`,
      `--tls-private-key-file=${pki.kubelet.key}`,
      '--enable-crds=PortForward,ClusterPortForward',
      // pod IPs on loopback (nodes without spec.podCIDR; kwok-node has its own): see lib/podnet.mjs
      `--cidr=${DEFAULT_POD_CIDR}`,
    ]);
  }
  await waitFor('kwok kubelet server', () => httpsGet(`https://127.0.0.1:${ports.kwok}/healthz`).then((r) => r.status > 0), {
    timeoutMs: 30_000,
    logName: 'kwok',
  });
}

export function clearEtcdData() {
  rmSync(join(paths.data, 'etcd'), { recursive: true, force: true });
}

export { readJson };
