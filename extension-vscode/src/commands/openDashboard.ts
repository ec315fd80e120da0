import * as vscode from 'vscode';
import type { Deps } from './deps';
import { connectionOf, resolveRayCluster } from '../ui/pick';

/** rayConnect.openDashboard: the forwarded dashboard, through asExternalUri (code-server / remote port mapping). */
export async function openDashboard(deps: Deps, arg?: unknown): Promise<unknown> {
  const ref = await resolveRayCluster(
    deps,
    arg,
    (_r, c) => c?.state === 'ready' || c?.state === 'reconnecting',
    vscode.l10n.t('Open the dashboard of which Ray cluster?'),
  );
  const url = ref ? connectionOf(deps, ref)?.dashboardUrl : undefined;
  if (!ref || !url) {
    void vscode.window.showInformationMessage(vscode.l10n.t('Connect to a Ray cluster first.'));
    return undefined;
  }
  const external = await vscode.env.asExternalUri(vscode.Uri.parse(url));
  return vscode.env.openExternal(external);
}
