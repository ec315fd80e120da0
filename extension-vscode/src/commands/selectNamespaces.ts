import * as vscode from 'vscode';
import type { Deps } from './deps';
import { resolveCluster } from '../ui/pick';
import { showError } from '../ui/errors';

/** rayConnect.selectNamespaces: which namespaces of a cluster are searched for Ray clusters. */
export async function selectNamespaces(deps: Deps, arg?: unknown): Promise<unknown> {
  const cluster = await resolveCluster(
    deps,
    arg,
    (c) => deps.store.isSignedIn(c),
    vscode.l10n.t('Choose namespaces of which cluster?'),
  );
  if (!cluster) return undefined;
  const value = await vscode.window.showInputBox({
    title: vscode.l10n.t('Namespaces to search in {0}', cluster.name),
    prompt: vscode.l10n.t('Comma-separated, e.g. team-a, team-b'),
    value: cluster.namespaces.join(', '),
    ignoreFocusOut: true,
    validateInput: (v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
        .every((s) => /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(s))
        ? undefined
        : vscode.l10n.t('Namespaces are lower-case letters, digits and dashes'),
  });
  if (value === undefined) return undefined;
  const namespaces = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  try {
    await deps.api.setNamespaces(cluster.id, namespaces.length ? namespaces : [cluster.namespace]);
    await deps.store.refreshCluster(cluster.id);
  } catch (e) {
    await showError(deps, e, { clusterId: cluster.id, attempting: 'setting namespaces' });
  }
  return undefined;
}
