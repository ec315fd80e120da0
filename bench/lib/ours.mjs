// Our port-forward (C's forwarder from @ray-connect/core dist), run in its own process like kubectl so both
// forwarders get the same treatment (the client load runs in the bench process).
import { join } from 'node:path';
import { startChild, stopChild } from './proc.mjs';

/** targets: [{ namespace, pod, port }]. Resolves { ports, pid, how, stop }. */
export async function startOursForwards(ctx, targets, { kubeconfig } = {}) {
  const { child, match } = await startChild(process.execPath, [join(ctx.benchDir, 'lib', 'forward-ours.mjs')], {
    env: {
      ...process.env,
      RC_BENCH_ROOT: ctx.root,
      RC_BENCH_KUBECTL: ctx.kubectl,
      RC_BENCH_KUBECONFIG_FILE: kubeconfig ?? ctx.kubeconfig,
      RC_BENCH_TARGETS: JSON.stringify(targets),
    },
    ready: (l) => {
      if (!l.startsWith('{')) return undefined;
      const j = JSON.parse(l);
      if (j.error) throw new Error(j.error);
      return j;
    },
    timeoutMs: 30_000,
  });
  return { ports: match.ports, pid: child.pid, how: match.how, stop: () => stopChild(child) };
}

export async function startOursForward(ctx, { namespace, pod, port, kubeconfig }) {
  const r = await startOursForwards(ctx, [{ namespace, pod, port }], { kubeconfig });
  return { ...r, port: r.ports[0] };
}
