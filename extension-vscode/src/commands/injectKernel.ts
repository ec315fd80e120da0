import * as vscode from 'vscode';
import type { Deps } from './deps';
import { resolveRayCluster } from '../ui/pick';
import { showError } from '../ui/errors';

/** rayConnect.injectKernel: set the Ray env in the active notebook's running Python kernel (Jupyter extension API). */
export async function injectKernel(deps: Deps, arg?: unknown): Promise<unknown> {
  if (!deps.kernels.available) {
    void vscode.window.showWarningMessage(
      vscode.l10n.t(
        'The Jupyter extension is not installed, so Ray Connect cannot reach running kernels. New terminals have the Ray environment; install ms-toolsai.jupyter for notebooks.',
      ),
    );
    return undefined;
  }
  const notebook = vscode.window.activeNotebookEditor?.notebook;
  if (!notebook) {
    void vscode.window.showInformationMessage(
      vscode.l10n.t('Open a notebook with a running Python kernel first.'),
    );
    return undefined;
  }
  const ref = await resolveRayCluster(
    deps,
    arg,
    (_r, c) => c?.state === 'ready',
    vscode.l10n.t('Apply the environment of which Ray cluster?'),
  );
  if (!ref) {
    void vscode.window.showInformationMessage(vscode.l10n.t('Connect to a Ray cluster first.'));
    return undefined;
  }
  try {
    const r = await deps.kernels.applyToNotebook(notebook.uri, ref);
    if (r.ok)
      void vscode.window.showInformationMessage(
        vscode.l10n.t(
          'The kernel now has RAY_ADDRESS and the token of {0}. It is applied again if the kernel restarts.',
          ref.name,
        ),
      );
    else void vscode.window.showWarningMessage(r.reason);
    return r;
  } catch (e) {
    await showError(deps, e, {
      clusterId: ref.clusterId,
      retry: () => injectKernel(deps, ref),
      attempting: 'applying the Ray environment to a kernel',
    });
    return undefined;
  }
}
