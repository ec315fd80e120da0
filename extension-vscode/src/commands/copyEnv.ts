import * as vscode from 'vscode';
import type { Deps } from './deps';
import { resolveRayCluster } from '../ui/pick';
import { showError } from '../ui/errors';
import { exportLines, sessionEnv } from '../ui/session';

/** rayConnect.copyEnv: `export RAY_...=...` lines for a shell elsewhere. */
export async function copyEnv(deps: Deps, arg?: unknown): Promise<unknown> {
  const ref = await resolveRayCluster(
    deps,
    arg,
    (_r, c) => c?.state === 'ready' || c?.state === 'reconnecting',
    vscode.l10n.t('Copy the environment of which Ray cluster?'),
  );
  if (!ref) {
    void vscode.window.showInformationMessage(vscode.l10n.t('Connect to a Ray cluster first.'));
    return undefined;
  }
  try {
    const s = await sessionEnv(deps, ref);
    await vscode.env.clipboard.writeText(exportLines(s.env) + '\n');
    void vscode.window.showInformationMessage(
      vscode.l10n.t(
        'Copied {0} for {1}. It holds the token: paste it only in your own shell.',
        Object.keys(s.env).join(', '),
        ref.name,
      ),
    );
  } catch (e) {
    await showError(deps, e, {
      clusterId: ref.clusterId,
      retry: () => copyEnv(deps, ref),
      attempting: `reading the environment of ${ref.name}`,
    });
  }
  return undefined;
}
