import * as vscode from 'vscode';
import type { Deps } from './deps';
import { resolveRayCluster } from '../ui/pick';
import { showError } from '../ui/errors';

/** rayConnect.disconnect: asks nothing; says what it removed (port-forward, terminal env, kernel env). */
export async function disconnect(deps: Deps, arg?: unknown): Promise<unknown> {
  const ref = await resolveRayCluster(
    deps,
    arg,
    (_r, c) => c !== undefined && c.state !== 'disconnected',
    vscode.l10n.t('Disconnect which Ray cluster?'),
  );
  if (!ref) return undefined;
  const envRemoved = deps.env.clear(ref);
  const kernels = await deps.kernels.clear(ref);
  try {
    const result = await deps.api.disconnect(ref);
    await deps.store.refreshRayClusters(ref.clusterId).catch(() => undefined);
    const removed = [...result.removed];
    if (envRemoved.length) removed.push(vscode.l10n.t('terminal environment ({0})', envRemoved.join(', ')));
    if (kernels) removed.push(vscode.l10n.t('environment of {0} kernels', kernels));
    void vscode.window.showInformationMessage(
      vscode.l10n.t(
        'Disconnected from {0}. Removed: {1}.',
        ref.name,
        removed.join('; ') || vscode.l10n.t('nothing'),
      ),
    );
    return result;
  } catch (e) {
    await showError(deps, e, {
      clusterId: ref.clusterId,
      retry: () => disconnect(deps, ref),
      attempting: `disconnecting ${ref.name}`,
    });
    return undefined;
  }
}
