import { ALL_NAMESPACES, isRayConnectError } from '@ray-connect/core';
import { allowOnly, boolFlag, stringFlag, UsageError } from '../args.js';
import { type CliContext, lockedKeychain } from '../compose.js';
import { exitCodeFor } from '../exitCodes.js';
import { errorInfoLine, table } from '../output.js';
import { selectCluster } from '../select.js';

export const clustersHelp = `Usage: ray-connect clusters [--context <name>] [--namespace <ns> | -A] [--json]
Lists the Ray clusters (KubeRay RayClusters) you can see, with state, auth mode and where the token comes from.
Namespaces: --namespace, else the ones chosen for the cluster, else the context's namespace.
  -A, --all-namespaces   every namespace you may list RayClusters in (like kubectl get -A)`;

export async function clusters(ctx: CliContext): Promise<number> {
  allowOnly(ctx.args, ['all-namespaces']);
  const cluster = await selectCluster(ctx);
  const namespace = stringFlag(ctx.args, 'namespace');
  const everywhere = boolFlag(ctx.args, 'all-namespaces');
  if (everywhere && namespace) throw new UsageError('choose --namespace or -A (--all-namespaces), not both');
  const namespaces = everywhere ? [ALL_NAMESPACES] : namespace ? [namespace] : undefined;
  let list;
  try {
    list = await ctx.api.listRayClusters(cluster.id, namespaces);
  } catch (e) {
    if (ctx.keychainLocked && isRayConnectError(e, 'SIGNED_OUT'))
      throw lockedKeychain(`your sign-in to ${cluster.name}, if any,`);
    throw e;
  }
  if (ctx.keychainLocked && !list.items.length && list.errors.some((e) => e.error.code === 'SIGNED_OUT'))
    throw lockedKeychain(`your sign-in to ${cluster.name}, if any,`);
  if (ctx.json) {
    ctx.out(JSON.stringify(list));
    return failed(list);
  }
  if (list.items.length === 0) {
    if (list.errors.length === 0) ctx.out(emptyState(list.searched, cluster.name, everywhere));
  } else {
    const rows = [['NAMESPACE', 'NAME', 'STATE', 'AUTH', 'TOKEN', 'CONNECTED']];
    for (const i of list.items) {
      const source = i.tokenSource;
      const token =
        source.kind === 'secret'
          ? `secret ${source.secretName}/${source.key}`
          : source.kind === 'kubernetes-identity'
            ? 'your Kubernetes token'
            : source.kind === 'head-env-file'
              ? `file ${source.path} (in pod)`
              : source.kind === 'head-env-literal'
                ? 'head env'
                : '-';
      rows.push([
        i.namespace,
        i.name,
        i.state,
        i.frontedBy ? `${i.authMode} via ${i.frontedBy.kind}` : i.authMode,
        token,
        i.connection ? `${i.connection.dashboardUrl ?? ''} (${i.connection.path})` : '',
      ]);
    }
    ctx.out(table(rows).trimEnd());
    for (const i of list.items) for (const w of i.warnings) ctx.warn(`${i.name}: ${w}`);
  }
  for (const e of list.errors) ctx.err(errorInfoLine(e.error, `namespace ${e.namespace}: `));
  return failed(list);
}

/** The empty state; for some namespaces it hints at -A (kubectl users' first try), as the clusters may be elsewhere. */
export function emptyState(searched: string[], clusterName: string, everywhere: boolean): string {
  if (everywhere) return `No Ray clusters in any namespace you may list on ${clusterName}.`;
  return `No Ray clusters in ${searched.join(', ')} on ${clusterName}. Other namespaces: ray-connect clusters -A (or -n <namespace>).`;
}

/** 0 when anything was listed; when every namespace failed, the exit code of the first error (unreachable: 6...). */
function failed(list: {
  items: unknown[];
  errors: { error: { code: Parameters<typeof exitCodeFor>[0] } }[];
}): number {
  const first = list.errors[0];
  return first && !list.items.length ? exitCodeFor(first.error.code) : 0;
}
