import { describe, expect, it } from 'vitest';
import { loadKubeconfig } from '../kube/loadKubeconfig.js';
import { silentLogger } from '../ports/Logger.js';
import { clusterCaFor, type ClusterDirectory, type ClusterEntry } from './clusterDirectory.js';
import type { RayConnectDeps } from './deps.js';

// The OpenShift sign-in does discovery on the API server: it must trust the CA the kubeconfig names for it.
const PEM = '-----BEGIN CERTIFICATE-----\nMIIBkubeconfigCA\n-----END CERTIFICATE-----\n';
const kubeconfig = `
apiVersion: v1
kind: Config
clusters:
- name: ocp
  cluster: { server: 'https://api.ocp.example:6443', certificate-authority-data: ${Buffer.from(PEM).toString('base64')} }
- name: public
  cluster: { server: 'https://api.public.example:6443' }
users: [{ name: u, user: {} }]
contexts:
- { name: ocp, context: { cluster: ocp, user: u } }
- { name: public, context: { cluster: public, user: u } }
current-context: ocp
`;

async function setup(extra: Partial<RayConnectDeps> = {}) {
  const files: Record<string, string> = { '/kube/config': kubeconfig, '/ca/setting.pem': 'SETTING-PEM' };
  const readFile = async (f: string) => {
    const text = files[f];
    if (text === undefined) throw Object.assign(new Error('nope'), { code: 'ENOENT' });
    return text;
  };
  const view = await loadKubeconfig({ readFile, env: { KUBECONFIG: '/kube/config' }, homedir: '/home/x' });
  const dir = { view, entries: [] } as unknown as ClusterDirectory;
  const deps = { env: {}, logger: silentLogger, readFile, ...extra } as unknown as RayConnectDeps;
  const entry = (context: string) => ({ id: context, context }) as unknown as ClusterEntry;
  return { dir, deps, entry };
}

describe('clusterCaFor', () => {
  it("gives the kubeconfig cluster's certificate-authority-data", async () => {
    const { dir, deps, entry } = await setup();
    expect(await clusterCaFor(dir, entry('ocp'), deps)).toEqual([PEM]);
  });

  it('gives undefined (system roots) when the kubeconfig names no CA', async () => {
    const { dir, deps, entry } = await setup();
    expect(await clusterCaFor(dir, entry('public'), deps)).toBeUndefined();
  });

  it('the CA file setting wins (added to the system roots)', async () => {
    const { dir, deps, entry } = await setup({ caFile: '/ca/setting.pem' });
    const ca = await clusterCaFor(dir, entry('ocp'), deps);
    expect(ca?.at(-1)).toBe('SETTING-PEM');
    expect(ca).not.toContain(PEM);
  });

  it('in a pod: the service account ca.crt', async () => {
    const { dir, deps } = await setup();
    const entry = { id: 'in-cluster', inCluster: { ca: 'SA-CA' } } as unknown as ClusterEntry;
    expect(await clusterCaFor(dir, entry, deps)).toEqual(['SA-CA']);
  });
});
