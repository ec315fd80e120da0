import * as vscode from 'vscode';
import type { ClusterSummary } from '@ray-connect/shared';
import type { Deps } from './deps';
import { resolveCluster } from '../ui/pick';
import { runSignIn } from '../ui/signInFlow';
import { showError } from '../ui/errors';

/**
 * rayConnect.signInToken: paste a token (`oc whoami -t`, `kubectl create token ...`); checked at once.
 * With no clusters in the kubeconfig it asks for the API server URL first (addCluster).
 * Automation may pass `{ token }` as the second argument instead of typing it.
 */
export async function signInToken(deps: Deps, arg?: unknown, options?: unknown): Promise<unknown> {
  let cluster: ClusterSummary | undefined = await resolveCluster(
    deps,
    arg,
    undefined,
    vscode.l10n.t('Sign in to which cluster?'),
  );
  if (!cluster) {
    const server = await vscode.window.showInputBox({
      title: vscode.l10n.t('Add a cluster'),
      prompt: vscode.l10n.t('Kubernetes API server URL'),
      placeHolder: 'https://api.example.com:6443',
      ignoreFocusOut: true,
      validateInput: (v) =>
        /^https:\/\/\S+$/.test(v.trim()) ? undefined : vscode.l10n.t('Enter an https:// URL'),
    });
    if (!server) return undefined;
    try {
      cluster = await deps.api.addCluster({ server: server.trim() });
      await deps.store.refresh().catch(() => undefined);
    } catch (e) {
      await showError(deps, e, { attempting: 'adding a cluster' });
      return undefined;
    }
  }
  const given =
    typeof options === 'object' &&
    options !== null &&
    typeof (options as { token?: unknown }).token === 'string'
      ? (options as { token: string }).token
      : undefined;
  const token =
    given ??
    (await vscode.window.showInputBox({
      title: vscode.l10n.t('Sign in to {0} with a token', cluster.name),
      prompt: vscode.l10n.t(
        'Paste a token, e.g. from `oc whoami -t` or `kubectl create token <service account>`.',
      ),
      password: true,
      ignoreFocusOut: true,
      validateInput: (v) => (v.trim() ? undefined : vscode.l10n.t('The token is empty')),
    }));
  if (!token) return undefined;
  deps.redactor.addSecret(token.trim());
  return runSignIn(deps, cluster, { method: 'token', token: token.trim() });
}
