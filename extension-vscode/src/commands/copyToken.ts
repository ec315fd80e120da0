import * as vscode from 'vscode';
import { formatExpiry } from '@ray-connect/shared';
import type { Deps } from './deps';
import { resolveRayCluster } from '../ui/pick';
import { showError } from '../ui/errors';

/** rayConnect.copyToken: the Ray token to the clipboard (never shown, never logged). */
export async function copyToken(deps: Deps, arg?: unknown): Promise<unknown> {
  const ref = await resolveRayCluster(
    deps,
    arg,
    (r, c) => r.authMode !== 'none' && c?.state === 'ready',
    vscode.l10n.t('Copy the token of which Ray cluster?'),
  );
  if (!ref) return undefined;
  try {
    const { token, expiresAt } = await deps.api.rayToken(ref);
    deps.redactor.addSecret(token);
    await vscode.env.clipboard.writeText(token);
    const exp = formatExpiry(expiresAt, Date.now(), vscode.l10n.t);
    void vscode.window.showInformationMessage(
      exp
        ? vscode.l10n.t('Ray token of {0} copied ({1}).', ref.name, exp)
        : vscode.l10n.t('Ray token of {0} copied.', ref.name),
    );
  } catch (e) {
    await showError(deps, e, {
      clusterId: ref.clusterId,
      retry: () => copyToken(deps, ref),
      attempting: `reading the Ray token of ${ref.name}`,
    });
  }
  return undefined;
}
