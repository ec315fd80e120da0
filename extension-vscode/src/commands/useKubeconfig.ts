import * as vscode from 'vscode';
import type { Deps } from './deps';
import { resolveCluster } from '../ui/pick';
import { runSignIn } from '../ui/signInFlow';

/** rayConnect.useKubeconfig: sign in with the credentials the kubeconfig context already has. */
export async function useKubeconfig(deps: Deps, arg?: unknown): Promise<unknown> {
  const cluster = await resolveCluster(
    deps,
    arg,
    (c) => c.source === 'kubeconfig',
    vscode.l10n.t('Choose a kubeconfig context'),
  );
  if (!cluster) {
    void vscode.window.showInformationMessage(
      vscode.l10n.t('No kubeconfig contexts found ($KUBECONFIG or ~/.kube/config).'),
    );
    return undefined;
  }
  return runSignIn(deps, cluster, { method: 'kubeconfig' });
}
