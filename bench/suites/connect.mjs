// Connect time: from "connect" (signed in, cluster known) to the first authenticated GET /api/version through
// the forward, median of 20, vs the manual path timed in the same run (interleaved):
// `kubectl get secret` + `kubectl port-forward` + the first request with the token.
// Ours is measured twice: through the facade the editors call (createRayConnect(...).connect, after one
// listRayClusters so the cluster is known and its KubeClient exists), and the connect use-case alone
// (connectRayCluster with a ready KubeClient).
import { mkdtempSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { coreFn, loadCore, makeKubeClient } from '../lib/core.mjs';
import { figure, notAvailable, ratio, reasonOf } from '../lib/figures.mjs';
import { getText } from '../lib/http.mjs';
import { kubectl, kubectlPortForward } from '../lib/kube.mjs';
import { stopChild } from '../lib/proc.mjs';
import { median, now, percentile } from '../lib/stats.mjs';

export const title = 'Connect time: ours vs the manual kubectl path';

const N = Number(process.env.RC_BENCH_CONNECT_N ?? 20);
const ITERATION_LIMIT_MS = 10_000;
const TARGET_MS = 300;

export async function run(ctx) {
  const figures = [];
  const notes = [];
  const [namespace, name] = (process.env.RC_BENCH_RAYCLUSTER ?? 'ray-demo/raycluster-token').split('/');

  // What the manual user needs to know up front: the Secret and the head service/pod.
  const rc = JSON.parse(await kubectl(ctx, ['-n', namespace, 'get', 'raycluster', name, '-o', 'json']));
  const secretName = rc.spec?.authOptions?.secretName ?? name;
  const headPod = rc.status?.head?.podName;
  const headSvc = rc.status?.head?.serviceName;
  const manualTarget = headSvc ? `svc/${headSvc}` : headPod ? `pod/${headPod}` : undefined;
  if (!manualTarget) throw new Error(`RayCluster ${namespace}/${name} has no status.head (pod or service)`);

  const modes = [];
  const closers = [];
  const core = await loadCore(ctx.root).catch(() => undefined);

  // Ours, through the facade.
  try {
    if (typeof core?.createRayConnect !== 'function')
      throw new Error('@ray-connect/core has no createRayConnect yet');
    const configDir = mkdtempSync(join(ctx.tmp, 'facade-'));
    const api = core.createRayConnect({
      store: new core.MemorySecretStore(),
      logger: core.silentLogger,
      clock: core.systemClock,
      browser: { open: async () => undefined },
      configDir,
      env: { ...process.env, KUBECONFIG: ctx.kubeconfig },
      homedir: homedir(),
      kubeconfigPath: ctx.kubeconfig,
      watchIntervalMs: 0,
    });
    closers.push(() => api.close());
    const clusters = await api.listClusters();
    const cluster = clusters.find((c) => c.current) ?? clusters[0];
    if (!cluster) throw new Error('the facade sees no cluster in the sandbox kubeconfig');
    await api.listRayClusters(cluster.id); // the cluster is known, its KubeClient made
    const ref = { clusterId: cluster.id, namespace, name };
    modes.push({
      key: 'ours',
      fn: async () => {
        const t0 = now();
        const c = await api.connect(ref);
        const ms = now() - t0;
        if (c.state !== 'ready') throw new Error(`connect ended in state ${c.state}`);
        await api.disconnect(ref);
        return ms;
      },
    });
    notes.push(
      `ours: createRayConnect(...).connect on ${cluster.id} (the facade VS Code and the agent call); it returns after the authenticated GET /api/version`,
    );
  } catch (e) {
    figures.push(
      notAvailable('connect.ours', 'connect through createRayConnect', `not available yet: ${reasonOf(e)}`),
    );
  }

  // Ours, the use-case alone.
  try {
    const { fn: connectRayCluster, from } = await coreFn(
      ctx.root,
      'connectRayCluster',
      'ray/connectRayCluster',
    );
    const { kube, how } = await makeKubeClient(ctx);
    const deps = {
      kube,
      clock: core.systemClock,
      logger: core.silentLogger,
      tokenDir: mkdtempSync(join(ctx.tmp, 'tokens-')),
      onChange: () => undefined,
    };
    const ref = { clusterId: 'bench', namespace, name };
    modes.push({
      key: 'usecase',
      fn: async () => {
        const t0 = now();
        const conn = await connectRayCluster(ref, {}, deps);
        const ms = now() - t0;
        await conn.stop();
        return ms;
      },
    });
    notes.push(`use-case: connectRayCluster from ${from} with a ready KubeClient (${how})`);
  } catch (e) {
    figures.push(notAvailable('connect.usecase', 'connect use-case', `not available yet: ${reasonOf(e)}`));
  }

  modes.push({
    key: 'manual',
    fn: async () => {
      const t0 = now();
      const b64 = await kubectl(ctx, [
        '-n',
        namespace,
        'get',
        'secret',
        secretName,
        '-o',
        'jsonpath={.data.auth_token}',
      ]);
      const token = Buffer.from(b64.trim(), 'base64').toString('utf8');
      const pf = await kubectlPortForward(ctx, namespace, manualTarget, 8265);
      try {
        const r = await getText(`http://127.0.0.1:${pf.port}/api/version`, {
          headers: { authorization: `Bearer ${token}` },
        });
        if (r.status !== 200) throw new Error(`manual GET /api/version gave HTTP ${r.status}`);
        return now() - t0;
      } finally {
        await stopChild(pf.child);
      }
    },
  });

  const samples = Object.fromEntries(modes.map((m) => [m.key, []]));
  const failures = Object.fromEntries(modes.map((m) => [m.key, 0]));
  const errors = {};
  const once = async (m, record) => {
    let timer;
    try {
      const limit = new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`one ${m.key} connect took longer than ${ITERATION_LIMIT_MS} ms`)),
          ITERATION_LIMIT_MS,
        );
      });
      const ms = await Promise.race([m.fn(), limit]);
      if (record) samples[m.key].push(ms);
    } catch (e) {
      if (!record) return;
      failures[m.key] += 1;
      errors[m.key] ??= reasonOf(e);
      ctx.log(`connect: ${m.key} run failed: ${reasonOf(e)}`);
    } finally {
      clearTimeout(timer);
    }
  };
  try {
    for (const m of modes) await once(m, false); // warm-up, not counted
    for (let i = 0; i < N; i++) for (const m of modes) await once(m, true);
  } finally {
    for (const c of closers)
      await Promise.resolve()
        .then(c)
        .catch(() => undefined);
  }

  const med = Object.fromEntries(
    modes.map((m) => [m.key, samples[m.key].length ? median(samples[m.key]) : undefined]),
  );
  const failNote = (key) =>
    failures[key] ? `${failures[key]} run(s) failed or timed out: ${errors[key]}` : undefined;
  if (med.manual !== undefined) {
    figures.push(
      figure(
        'connect.manual',
        `manual: kubectl get secret + kubectl port-forward + first GET (median of ${samples.manual.length})`,
        med.manual,
        'ms',
        {
          detail: { p90: percentile(samples.manual, 90), runs: samples.manual },
          ...(failNote('manual') ? { note: failNote('manual') } : {}),
        },
      ),
    );
  } else figures.push(notAvailable('connect.manual', 'manual path', errors.manual ?? 'no run'));
  for (const [key, label] of [
    ['ours', 'ours: createRayConnect().connect to first authenticated GET /api/version'],
    ['usecase', 'ours, use-case only: connectRayCluster with a ready KubeClient'],
  ]) {
    if (!modes.some((m) => m.key === key)) continue;
    if (med[key] === undefined) {
      figures.push(notAvailable(`connect.${key}`, label, errors[key] ?? 'no run'));
      continue;
    }
    const f = figure(`connect.${key}`, `${label} (median of ${samples[key].length})`, med[key], 'ms', {
      ratios: { 'vs manual': ratio(med[key], med.manual) },
      ...(key === 'ours' ? { target: { op: '<', value: TARGET_MS, text: `< ${TARGET_MS} ms` } } : {}),
      detail: { p90: percentile(samples[key], 90), runs: samples[key] },
      ...(failNote(key) ? { note: failNote(key) } : {}),
    });
    if (f.met === false) {
      f.missedBy = `${Math.round(med[key] - TARGET_MS)} ms`;
      f.why =
        'connect makes these round trips in sequence: get RayCluster, get Secret, find the head pod, then two new port-forward WebSockets (TLS + upgrade through the apiserver to kwok) for /api/authentication_mode and /api/version';
    }
    figures.push(f);
  }
  notes.push(
    `RayCluster ${namespace}/${name}; manual path forwards ${manualTarget} port 8265 (kubectl process start included: that is what the user runs); modes interleaved, one warm-up each`,
  );
  return { figures, notes };
}
