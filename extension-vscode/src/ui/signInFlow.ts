import * as vscode from 'vscode';
import type { ClusterSummary, SignInInput, SignInProgress, SignInState } from '@ray-connect/shared';
import { formatDuration } from '@ray-connect/shared';
import type { Deps } from '../commands/deps';
import { showError } from './errors';

/**
 * Runs one sign-in: beginSignIn, then for device/browser flows shows the code or opens the browser, with a
 * cancellable progress notification until the identity provider answers. Never opens a browser by itself except
 * when the user chose "Sign in with browser".
 */
export async function runSignIn(
  deps: Deps,
  cluster: ClusterSummary,
  input: SignInInput,
): Promise<SignInState | undefined> {
  const retry = () => runSignIn(deps, cluster, input);
  let progress: SignInProgress;
  try {
    progress = await vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: vscode.l10n.t('Signing in to {0}...', cluster.name),
      },
      () => deps.api.beginSignIn(cluster.id, input),
    );
  } catch (e) {
    await showError(deps, e, { clusterId: cluster.id, retry, attempting: `signing in to ${cluster.name}` });
    return undefined;
  }
  let state: SignInState | undefined;
  try {
    if (progress.kind === 'done') state = progress.state;
    else if (progress.kind === 'device') state = await deviceFlow(deps, cluster, progress);
    else state = await browserFlow(deps, cluster, progress);
  } catch (e) {
    await showError(deps, e, { clusterId: cluster.id, retry, attempting: `signing in to ${cluster.name}` });
    return undefined;
  }
  if (!state) return undefined;
  if (state.status !== 'signed-in') {
    await showError(
      deps,
      state.error ?? {
        code: 'TOKEN_INVALID',
        message: vscode.l10n.t('Sign-in to {0} did not complete.', cluster.name),
      },
      { clusterId: cluster.id, retry },
    );
    return state;
  }
  deps.events.emit({ type: 'signed-in', clusterId: cluster.id, username: state.identity?.username });
  await deps.store.refreshCluster(cluster.id).catch(() => undefined);
  void vscode.window.showInformationMessage(
    state.identity
      ? vscode.l10n.t('Signed in to {0} as {1}.', cluster.name, state.identity.username)
      : vscode.l10n.t('Signed in to {0}.', cluster.name),
  );
  return state;
}

async function deviceFlow(
  deps: Deps,
  cluster: ClusterSummary,
  p: Extract<SignInProgress, { kind: 'device' }>,
): Promise<SignInState | undefined> {
  deps.events.emit({
    type: 'device-code',
    clusterId: cluster.id,
    userCode: p.userCode,
    verificationUri: p.verificationUri,
  });
  const copyAndOpen = vscode.l10n.t('Copy code and open browser');
  // The code is shown as text in the notification (selectable), with one button doing both steps.
  void vscode.window
    .showInformationMessage(
      vscode.l10n.t('Sign in to {0}: enter code {1} at {2}', cluster.name, p.userCode, p.verificationUri),
      copyAndOpen,
    )
    .then(async (choice) => {
      if (choice !== copyAndOpen) return;
      await vscode.env.clipboard.writeText(p.userCode);
      await vscode.env.openExternal(vscode.Uri.parse(p.verificationUriComplete ?? p.verificationUri));
    });
  return waitWithProgress(
    deps,
    cluster,
    p.loginId,
    p.expiresAt,
    vscode.l10n.t('Waiting for you to approve code {0}', p.userCode),
  );
}

async function browserFlow(
  deps: Deps,
  cluster: ClusterSummary,
  p: Extract<SignInProgress, { kind: 'browser' }>,
): Promise<SignInState | undefined> {
  const opened = await vscode.env.openExternal(vscode.Uri.parse(p.url));
  if (!opened) {
    const copy = vscode.l10n.t('Copy link');
    void vscode.window
      .showWarningMessage(vscode.l10n.t('Could not open a browser. Open the sign-in link yourself.'), copy)
      .then((c) => (c === copy ? vscode.env.clipboard.writeText(p.url) : undefined));
  }
  return waitWithProgress(
    deps,
    cluster,
    p.loginId,
    undefined,
    vscode.l10n.t('Waiting for the browser sign-in to finish'),
  );
}

async function waitWithProgress(
  deps: Deps,
  cluster: ClusterSummary,
  loginId: string,
  expiresAt: number | undefined,
  title: string,
): Promise<SignInState | undefined> {
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `${cluster.name}: ${title}`, cancellable: true },
    async (progress, token) => {
      let cancelled = false;
      const cancel = token.onCancellationRequested(() => {
        cancelled = true;
        void deps.api.cancelSignIn(loginId).catch(() => undefined);
      });
      const tick = () => {
        if (expiresAt !== undefined)
          progress.report({
            message: vscode.l10n.t('code expires in {0}', formatDuration(expiresAt - Date.now())),
          });
      };
      tick();
      const timer = setInterval(tick, 15_000);
      try {
        return await deps.api.completeSignIn(loginId);
      } catch (e) {
        if (
          cancelled ||
          (typeof e === 'object' && e !== null && (e as { code?: string }).code === 'LOGIN_CANCELLED')
        ) {
          deps.log.info('sign-in cancelled', { cluster: cluster.name });
          return undefined;
        }
        throw e;
      } finally {
        clearInterval(timer);
        cancel.dispose();
      }
    },
  );
}
