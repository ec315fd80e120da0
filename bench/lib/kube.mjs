// kubectl and sandbox helpers for the suites.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { exec, startChild } from './proc.mjs';

/** Runs kubectl with the sandbox's admin kubeconfig; throws with stderr on failure. Returns stdout. */
export async function kubectl(ctx, args, { input, timeoutMs = 60_000, kubeconfig } = {}) {
  const r = await exec(ctx.kubectl, [`--kubeconfig=${kubeconfig ?? ctx.kubeconfig}`, ...args], { input, timeoutMs });
  if (r.code !== 0) throw new Error(`kubectl ${args.slice(0, 3).join(' ')} failed (${r.code}): ${r.stderr.trim().slice(0, 300)}`);
  return r.stdout;
}

export async function kubectlJson(ctx, args, options) {
  return JSON.parse(await kubectl(ctx, [...args, '-o', 'json'], options));
}

/**
 * Starts `kubectl port-forward` to ns/target (pod/x or svc/x) remote port; resolves { child, port } once kubectl
 * says "Forwarding from 127.0.0.1:<port>".
 */
export async function kubectlPortForward(ctx, ns, target, remotePort, { localPort = 0, kubeconfig } = {}) {
  const { child, match } = await startChild(
    ctx.kubectl,
    [`--kubeconfig=${kubeconfig ?? ctx.kubeconfig}`, '-n', ns, 'port-forward', '--address', '127.0.0.1', target, `${localPort || ''}:${remotePort}`],
    { ready: /Forwarding from 127\.0\.0\.1:(\d+)/, timeoutMs: 20_000 },
  );
  return { child, port: Number(match[1]) };
}

/** The kubectl binary: $RC_CACHE/bin/kubectl, else the one on PATH. */
export function findKubectl(cacheDir) {
  const own = join(cacheDir, 'bin', 'kubectl');
  return existsSync(own) ? own : 'kubectl';
}
