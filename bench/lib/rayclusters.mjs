// Bulk RayClusters for the scale and panel figures: created with direct API calls (parallel POSTs), deleted by
// label. No operator runs in the sandbox, so they have no status (the tree shows them as not ready).
import { writeFileSync } from 'node:fs';
import { exec } from './proc.mjs';

export const BENCH_LABEL = 'ray-connect.dev/bench';

export function rayCluster(ns, name, tag = 'scale') {
  return {
    apiVersion: 'ray.io/v1',
    kind: 'RayCluster',
    metadata: { name, namespace: ns, labels: { [BENCH_LABEL]: tag } },
    spec: {
      rayVersion: '2.59.0',
      authOptions: { mode: 'token' },
      headGroupSpec: {
        rayStartParams: {},
        template: {
          spec: {
            containers: [
              {
                name: 'ray-head',
                image: 'rayproject/ray:2.59.0',
                ports: [
                  { containerPort: 6379, name: 'gcs-server' },
                  { containerPort: 8265, name: 'dashboard' },
                  { containerPort: 10001, name: 'client' },
                ],
              },
            ],
          },
        },
      },
    },
  };
}

/** Runs fn over items with at most `limit` in flight. */
export async function pool(items, limit, fn) {
  let next = 0;
  const out = new Array(items.length);
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i], i);
      }
    }),
  );
  return out;
}

/** POSTs RayClusters [[ns, name], ...]; returns { ms, conflicts }. */
export async function createRayClusters(admin, jobs, { parallel = 16, tag = 'scale' } = {}) {
  const t0 = performance.now();
  let conflicts = 0;
  await pool(jobs, parallel, async ([ns, name]) => {
    try {
      await admin.request({ method: 'POST', path: `/apis/ray.io/v1/namespaces/${ns}/rayclusters`, body: rayCluster(ns, name, tag) });
    } catch (e) {
      if (e.details?.status === 409) conflicts += 1;
      else throw e;
    }
  });
  return { ms: performance.now() - t0, conflicts };
}

export function deleteRayClusters(admin, ns, tag) {
  return admin.request({ method: 'DELETE', path: `/apis/ray.io/v1/namespaces/${ns}/rayclusters`, query: { labelSelector: `${BENCH_LABEL}=${tag}` } });
}

/** A copy of the kubeconfig whose current context uses `namespace` (the panel lists the context's namespace). */
export async function kubeconfigWithNamespace(kubectl, kubeconfig, namespace, file) {
  const r = await exec(kubectl, [`--kubeconfig=${kubeconfig}`, 'config', 'view', '--raw', '--flatten', '-o', 'json'], { timeoutMs: 15_000 });
  if (r.code !== 0) throw new Error(`kubectl config view failed: ${r.stderr.trim()}`);
  const c = JSON.parse(r.stdout);
  const current = c['current-context'];
  for (const ctx of c.contexts ?? []) if (ctx.name === current) ctx.context.namespace = namespace;
  writeFileSync(file, JSON.stringify(c), { mode: 0o600 });
  return file;
}
