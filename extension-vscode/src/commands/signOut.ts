import * as vscode from 'vscode';
import type { Deps } from './deps';
import { resolveCluster } from '../ui/pick';
import { showError } from '../ui/errors';

/** rayConnect.signOut: disconnects the cluster's Ray clusters, clears terminal/kernel env, removes stored secrets. */
export async function signOut(deps: Deps, arg?: unknown): Promise<unknown> {
  const cluster = await resolveCluster(
    deps,
    arg,
    (c) => c.signIn.status !== 'signed-out',
    vscode.l10n.t('Sign out of which cluster?'),
  );
  if (!cluster) return undefined;
  const envRemoved = deps.env.clearCluster(cluster.id);
  const kernels = await deps.kernels.clear(undefined, cluster.id);
  try {
    const result = await deps.api.signOut(cluster.id);
    await deps.store.refresh().catch(() => undefined);
    const removed = [...result.removed];
    if (envRemoved.length) removed.push(vscode.l10n.t('terminal environment ({0})', envRemoved.join(', ')));
    if (kernels) removed.push(vscode.l10n.t('environment of {0} kernels', kernels));
    void vscode.window.showInformationMessage(
      removed.length
        ? vscode.l10n.t('Signed out of {0}. Removed: {1}.', cluster.name, removed.join('; '))
        : vscode.l10n.t('Signed out of {0}.', cluster.name),
    );
    return result;
  } catch (e) {
    await showError(deps, e, {
      clusterId: cluster.id,
      retry: () => signOut(deps, cluster.id),
      attempting: `signing out of ${cluster.name}`,
    });
    return undefined;
  }
}
