import { allowOnly, stringFlag } from '../args.js';
import type { CliContext } from '../compose.js';
import { exitCodeFor } from '../exitCodes.js';
import { table } from '../output.js';
import { selectCluster } from '../select.js';

export const clustersHelp = `Usage: ray-connect clusters [--context <name>] [--namespace <ns>] [--json]
Lists the Ray clusters (KubeRay RayClusters) you can see, with state, auth mode and where the token comes from.
Namespaces: --namespace, else the ones chosen for the cluster, else the context's namespace.`;

export async function clusters(ctx: CliContext): Promise<number> {
  allowOnly(ctx.args, []);
  const cluster = await selectCluster(ctx);
  const namespace = stringFlag(ctx.args, 'namespace');
  const list = await ctx.api.listRayClusters(cluster.id, namespace ? [namespace] : undefined);
  if (ctx.json) {
    ctx.out(JSON.stringify(list));
    return failed(list);
  }
  if (list.items.length === 0) {
    if (list.errors.length === 0)
      ctx.out(`No Ray clusters in ${list.searched.join(', ')} on ${cluster.name}.`);
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
    for (const i of list.items) for (const w of i.warnings) ctx.err(`warning: ${i.name}: ${w}`);
  }
  for (const e of list.errors)
    ctx.err(
      `error: namespace ${e.namespace}: ${e.error.message}${e.error.fix ? `\n  fix: ${e.error.fix}` : ''}`,
    );
  return failed(list);
}

/** 0 when anything was listed; when every namespace failed, the exit code of the first error (unreachable: 6...). */
function failed(list: {
  items: unknown[];
  errors: { error: { code: Parameters<typeof exitCodeFor>[0] } }[];
}): number {
  const first = list.errors[0];
  return first && !list.items.length ? exitCodeFor(first.error.code) : 0;
}
