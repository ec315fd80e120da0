// Access to the built core (@ray-connect/core dist) for the suites: exports by name, with the lower-level
// modules under dist/ as a fallback while a piece is not exported from the index yet. A KubeClient from the
// core's own factory when it has one, else a small stand-in built from `kubectl config view --raw` (TLS and
// auth material only; the code being measured is still the core's).
import { existsSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { exec } from './proc.mjs';

export function distPath(root, rel = 'index.js') {
  return join(root, 'packages', 'core', 'dist', rel);
}

export async function loadCore(root) {
  const file = distPath(root);
  if (!existsSync(file)) throw new Error('@ray-connect/core is not built (packages/core/dist/index.js missing)');
  return import(pathToFileURL(file).href);
}

/** Export `name` from the core index, else from dist/<deep>.js; throws "not available yet" naming it. */
export async function coreFn(root, name, deep) {
  const core = await loadCore(root);
  if (typeof core[name] === 'function') return { fn: core[name], from: '@ray-connect/core' };
  for (const d of [deep].flat().filter(Boolean)) {
    const file = distPath(root, `${d}.js`);
    if (!existsSync(file)) continue;
    const mod = await import(pathToFileURL(file).href);
    if (typeof mod[name] === 'function') return { fn: mod[name], from: `dist/${d}.js` };
  }
  throw new Error(`@ray-connect/core has no ${name} yet`);
}

/** The admin kubeconfig's current context, flattened: { server, ca, cert, key, token, namespace }. */
export async function kubeconfigMaterial(kubectl, kubeconfig) {
  const r = await exec(kubectl, [`--kubeconfig=${kubeconfig}`, 'config', 'view', '--raw', '--minify', '--flatten', '-o', 'json'], { timeoutMs: 15_000 });
  if (r.code !== 0) throw new Error(`kubectl config view failed: ${r.stderr.trim()}`);
  const c = JSON.parse(r.stdout);
  const cluster = c.clusters?.[0]?.cluster ?? {};
  const user = c.users?.[0]?.user ?? {};
  const b64 = (s) => (s ? Buffer.from(s, 'base64') : undefined);
  return {
    server: cluster.server,
    ca: b64(cluster['certificate-authority-data']),
    cert: b64(user['client-certificate-data']),
    key: b64(user['client-key-data']),
    token: user.token,
    namespace: c.contexts?.[0]?.context?.namespace ?? 'default',
  };
}

/**
 * A KubeClient for the admin kubeconfig. Uses the core's createKubeClient when it exists (trying the shapes
 * B1 documents), else the stand-in. Returns { kube, how }.
 */
export async function makeKubeClient(ctx, kubeconfig = ctx.kubeconfig) {
  const core = await loadCore(ctx.root).catch(() => ({}));
  if (typeof core.createKubeClientFromContext === 'function' && typeof core.loadKubeconfig === 'function') {
    try {
      const view = await core.loadKubeconfig({
        env: { ...process.env, KUBECONFIG: kubeconfig },
        homedir: homedir(),
        readFile: core.nodeReadTextFile,
        explicitPath: kubeconfig,
      });
      const kube = await core.createKubeClientFromContext(view, undefined, { logger: core.silentLogger });
      return { kube, how: 'the core (loadKubeconfig + createKubeClientFromContext)' };
    } catch (e) {
      ctx.log?.(`the core's createKubeClientFromContext failed (${e.message}); using the stand-in KubeClient`);
    }
  }
  const m = await kubeconfigMaterial(ctx.kubectl, kubeconfig);
  return { kube: standInKubeClient(m), how: 'a bench stand-in KubeClient (admin kubeconfig TLS material)' };
}

export function standInKubeClient(m) {
  const headers = m.token ? { authorization: `Bearer ${m.token}` } : {};
  const tls = { ca: m.ca, cert: m.cert, key: m.key, rejectUnauthorized: true };
  return {
    server: m.server,
    namespace: m.namespace,
    async bearerToken() {
      return undefined;
    },
    async webSocketOptions() {
      return { headers: { ...headers }, ...tls };
    },
    request({ method = 'GET', path, query, body }) {
      const url = new URL(m.server.replace(/\/+$/, '') + path);
      for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
      const data = body === undefined ? undefined : JSON.stringify(body);
      return new Promise((resolve, reject) => {
        const req = httpsRequest(
          url,
          { method, ...tls, headers: { ...headers, accept: 'application/json', ...(data ? { 'content-type': 'application/json' } : {}) }, timeout: 30_000 },
          (res) => {
            const chunks = [];
            res.on('data', (c) => chunks.push(c));
            res.on('end', () => {
              const text = Buffer.concat(chunks).toString('utf8');
              if ((res.statusCode ?? 500) >= 400) return reject(Object.assign(new Error(`${method} ${path}: HTTP ${res.statusCode}`), { details: { status: res.statusCode } }));
              try {
                resolve(text ? JSON.parse(text) : undefined);
              } catch (e) {
                reject(e);
              }
            });
          },
        );
        req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
        req.on('error', reject);
        req.end(data);
      });
    },
  };
}

/** Wraps a KubeClient so that every request is counted (by method + path without the namespace part). */
export function countingKube(kube) {
  const calls = [];
  return {
    calls,
    kube: new Proxy(kube, {
      get(target, prop, receiver) {
        if (prop === 'request') {
          return (req) => {
            calls.push(`${req.method ?? 'GET'} ${req.path}`);
            return target.request(req);
          };
        }
        const v = Reflect.get(target, prop, receiver);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    }),
  };
}
