// Connect time: from "connect" (signed in, cluster known: the KubeClient exists) to the first authenticated
// GET /api/version through the forward, median of 20, vs the manual path timed in the same run:
// `kubectl get secret` + `kubectl port-forward` + the first request with the token.
import { mkdtempSync } from 'node:fs';
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

export async function run(ctx) {
  const figures = [];
  const notes = [];
  const [namespace, name] = (process.env.RC_BENCH_RAYCLUSTER ?? 'ray-demo/raycluster-token').split('/');
  const ref = { clusterId: 'bench', namespace, name };

  // What the manual user needs to know up front: the Secret and the head service/pod and its dashboard port.
  const rc = JSON.parse(await kubectl(ctx, ['-n', namespace, 'get', 'raycluster', name, '-o', 'json']));
  const secretName = rc.spec?.authOptions?.secretName ?? name;
  const headPod = rc.status?.head?.podName;
  const headSvc = rc.status?.head?.serviceName;
  const manualTarget = headSvc ? `svc/${headSvc}` : headPod ? `pod/${headPod}` : undefined;
  if (!manualTarget) throw new Error(`RayCluster ${namespace}/${name} has no status.head (pod or service)`);

  // Ours: the core's connect use-case with a KubeClient made once (signed in, cluster known).
  let ours;
  try {
    const { fn: connectRayCluster, from } = await coreFn(
      ctx.root,
      'connectRayCluster',
      'ray/connectRayCluster',
    );
    const core = await loadCore(ctx.root);
    const { kube, how } = await makeKubeClient(ctx);
    const tokenDir = mkdtempSync(join(ctx.tmp, 'tokens-'));
    const deps = {
      kube,
      clock: core.systemClock,
      logger: core.silentLogger,
      tokenDir,
      onChange: () => undefined,
    };
    ours = async () => {
      const t0 = now();
      const conn = await connectRayCluster(ref, {}, deps);
      const ms = now() - t0;
      await conn.stop();
      return ms;
    };
    notes.push(
      `ours: connectRayCluster from ${from} (it ends with the authenticated GET /api/version through the forward); KubeClient: ${how}`,
    );
  } catch (e) {
    figures.push(notAvailable('connect.ours', 'connect, ours', `not available yet: ${reasonOf(e)}`));
  }

  const manual = async () => {
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
  };

  // Warm-up (one of each, not counted), then N interleaved.
  const samples = { ours: [], manual: [], warm: [] };
  const errors = {};
  const failures = { ours: 0, manual: 0, warm: 0 };
  const once = async (which, fn) => {
    let timer;
    try {
      const limit = new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`one ${which} connect took longer than ${ITERATION_LIMIT_MS} ms`)),
          ITERATION_LIMIT_MS,
        );
      });
      samples[which].push(await Promise.race([fn(), limit]));
    } catch (e) {
      failures[which] += 1;
      errors[which] ??= reasonOf(e);
      ctx.log(`connect: ${which} run failed: ${reasonOf(e)}`);
    } finally {
      clearTimeout(timer);
    }
  };
  if (ours) await once('warm', ours);
  await once('warm', manual);
  for (let i = 0; i < N; i++) {
    if (ours) await once('ours', ours);
    await once('manual', manual);
  }

  const m = median(samples.manual);
  if (samples.manual.length) {
    figures.push(
      figure(
        'connect.manual',
        `manual: kubectl get secret + kubectl port-forward + first GET (median of ${samples.manual.length})`,
        m,
        'ms',
        {
          detail: { p90: percentile(samples.manual, 90), runs: samples.manual },
          ...(failures.manual
            ? { note: `${failures.manual} run(s) failed or timed out: ${errors.manual}` }
            : {}),
        },
      ),
    );
  } else figures.push(notAvailable('connect.manual', 'manual path', errors.manual ?? 'no run'));
  if (ours) {
    if (samples.ours.length) {
      const o = median(samples.ours);
      const f = figure(
        'connect.ours',
        `ours: connect to first authenticated GET /api/version (median of ${samples.ours.length})`,
        o,
        'ms',
        {
          ratios: { 'vs manual': ratio(o, m) },
          target: { op: '<', value: 300, text: '< 300 ms' },
          detail: { p90: percentile(samples.ours, 90), runs: samples.ours },
          ...(failures.ours ? { note: `${failures.ours} run(s) failed or timed out: ${errors.ours}` } : {}),
        },
      );
      if (f.met === false) {
        f.missedBy = `${Math.round(o - 300)} ms`;
        f.why =
          'connect makes these round trips in sequence: get RayCluster, get Secret, find the head pod, then two new port-forward websockets (TLS + upgrade through the apiserver to kwok) for /api/authentication_mode and /api/version';
      }
      figures.push(f);
    } else figures.push(notAvailable('connect.ours', 'connect, ours', errors.ours ?? 'no run'));
  }
  notes.push(
    `RayCluster ${namespace}/${name}; manual path forwards ${manualTarget} port 8265 (kubectl process start included: that is what the user runs)`,
  );
  return { figures, notes };
}
