import * as vscode from 'vscode';
import type { Deps } from './deps';
import { resolveCluster } from '../ui/pick';
import { rememberedIdp, runSignIn } from '../ui/signInFlow';

/** rayConnect.signInBrowser: OIDC authorization code (or OpenShift OAuth) in the system browser. */
export async function signInBrowser(deps: Deps, arg?: unknown): Promise<unknown> {
  const cluster = await resolveCluster(deps, arg, undefined, vscode.l10n.t('Sign in to which cluster?'));
  if (!cluster) return undefined;
  return runSignIn(deps, cluster, { method: 'browser', ...rememberedIdp(deps, cluster.id) });
}
