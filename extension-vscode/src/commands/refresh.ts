import * as vscode from 'vscode';
import type { Deps } from './deps';
import { clusterIdFrom } from '../ui/pick';
import { showError } from '../ui/errors';

/** rayConnect.refresh: reload clusters (or one cluster's Ray clusters). */
export async function refresh(deps: Deps, arg?: unknown): Promise<unknown> {
  const id = clusterIdFrom(arg);
  try {
    await vscode.window.withProgress({ location: { viewId: 'rayConnect.clusters' } }, () =>
      id ? deps.store.refreshCluster(id) : deps.store.refresh(),
    );
  } catch (e) {
    await showError(deps, e, { retry: () => refresh(deps, arg), attempting: 'refreshing' });
  }
  return undefined;
}
