import * as vscode from 'vscode';
import type { Deps } from './deps';
import { resolveRayCluster } from '../ui/pick';
import { sessionEnv } from '../ui/session';
import { showError } from '../ui/errors';

/** rayConnect.newTerminal: a terminal with the Ray env (from the env collection, or given directly and not persisted). */
export async function newTerminal(deps: Deps, arg?: unknown): Promise<unknown> {
  const ref = await resolveRayCluster(
    deps,
    arg,
    (_r, c) => c?.state === 'ready',
    vscode.l10n.t('Open a terminal for which Ray cluster?'),
  );
  if (!ref) {
    void vscode.window.showInformationMessage(vscode.l10n.t('Connect to a Ray cluster first.'));
    return undefined;
  }
  const options: vscode.TerminalOptions = { name: vscode.l10n.t('Ray: {0}', ref.name), isTransient: true };
  if (!deps.env.isInjected(ref)) {
    try {
      options.env = (await sessionEnv(deps, ref)).env;
    } catch (e) {
      await showError(deps, e, { clusterId: ref.clusterId, attempting: 'reading the session environment' });
      return undefined;
    }
  }
  const terminal = vscode.window.createTerminal(options);
  terminal.show();
  return terminal;
}
