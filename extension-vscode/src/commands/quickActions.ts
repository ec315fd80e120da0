import * as vscode from 'vscode';
import { quickActions as buildQuickActions } from '@ray-connect/shared';
import type { Deps } from './deps';

/** rayConnect.quickActions: what the status bar offers (connect another, dashboard, copy env, disconnect, sign out). */
export async function quickActions(deps: Deps): Promise<unknown> {
  const actions = buildQuickActions({
    clusters: deps.store.clusters,
    connections: deps.store.connections,
    now: Date.now(),
    t: vscode.l10n.t,
  });
  const picked = await vscode.window.showQuickPick(actions, { placeHolder: vscode.l10n.t('Ray Connect') });
  return picked ? vscode.commands.executeCommand(picked.command, ...picked.args) : undefined;
}
