import * as vscode from 'vscode';
import type { Deps } from './deps';
import { resolveCluster } from '../ui/pick';
import { rememberedIdp, runSignIn } from '../ui/signInFlow';

/** rayConnect.signInDevice: OIDC device code, shown in a notification; works when VS Code runs remotely. */
export async function signInDevice(deps: Deps, arg?: unknown): Promise<unknown> {
  const cluster = await resolveCluster(deps, arg, undefined, vscode.l10n.t('Sign in to which cluster?'));
  if (!cluster) return undefined;
  return runSignIn(deps, cluster, { method: 'device', ...rememberedIdp(deps, cluster.id) });
}
