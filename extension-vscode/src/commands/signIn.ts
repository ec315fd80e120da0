import * as vscode from 'vscode';
import { SIGN_IN_CHOICES } from '@ray-connect/shared';
import type { Deps } from './deps';
import { clusterIdFrom } from '../ui/pick';

/** rayConnect.signIn: one chooser, the same order as in JupyterLab (kubeconfig, device, browser, token, pod). */
export async function signIn(_deps: Deps, arg?: unknown): Promise<unknown> {
  const inPod = process.env.KUBERNETES_SERVICE_HOST !== undefined;
  const choices = SIGN_IN_CHOICES.filter((c) => c.command && (!c.onlyInCluster || inPod));
  const picked = await vscode.window.showQuickPick(
    choices.map((c) => ({
      label: vscode.l10n.t(c.label),
      detail: vscode.l10n.t(c.detail),
      command: c.command!,
    })),
    { placeHolder: vscode.l10n.t('How do you want to sign in?'), ignoreFocusOut: true },
  );
  if (!picked) return undefined;
  const clusterId = clusterIdFrom(arg);
  return vscode.commands.executeCommand(picked.command, ...(clusterId ? [clusterId] : []));
}
