import * as vscode from 'vscode';
import type { ClusterSummary, SignInInput, SignInProgress, SignInState } from '@ray-connect/shared';
import { CommandIds, formatDuration, toErrorInfo } from '@ray-connect/shared';
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
    if (
      (input.method === 'device' || input.method === 'browser') &&
      !input.issuer &&
      toErrorInfo(e).code === 'BAD_REQUEST'
    ) {
      // The kubeconfig names no identity provider: ask once, remember per cluster (not secret), try again.
      const idp = await askIdp(deps, cluster);
      if (idp) return runSignIn(deps, cluster, { ...input, ...idp });
      return undefined;
    }
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
  deps.events.emit({ type: 'browser-sign-in', clusterId: cluster.id, url: p.url });
  const cantOpen = () => {
    const copy = vscode.l10n.t('Copy link');
    void vscode.window
      .showWarningMessage(vscode.l10n.t('Could not open a browser. Open the sign-in link yourself.'), copy)
      .then((c) => (c === copy ? vscode.env.clipboard.writeText(p.url) : undefined));
  };
  // Not awaited: VS Code may ask before opening the link (trusted domains); the loopback listener already waits,
  // and the progress notification (cancellable) is shown meanwhile.
  Promise.resolve(vscode.env.openExternal(vscode.Uri.parse(p.url))).then(
    (opened) => (opened ? undefined : cantOpen()),
    (e: unknown) => {
      deps.log.warn('opening the browser failed', { error: String(e) });
      cantOpen();
    },
  );
  if (p.tokenRequestUrl) offerTokenPage(deps, cluster, p.loginId, p.tokenRequestUrl);
  return waitWithProgress(
    deps,
    cluster,
    p.loginId,
    undefined,
    vscode.l10n.t('Waiting for the browser sign-in to finish'),
  );
}

/** OpenShift's "display token" page: the way out when the browser cannot reach this machine (remote sessions). */
function offerTokenPage(deps: Deps, cluster: ClusterSummary, loginId: string, url: string): void {
  const getToken = vscode.l10n.t('Get a token instead');
  void vscode.window
    .showInformationMessage(
      vscode.l10n.t(
        'If the browser cannot come back to VS Code (remote session), get a token from {0} and paste it.',
        cluster.name,
      ),
      getToken,
    )
    .then(async (choice) => {
      if (choice !== getToken) return;
      await deps.api.cancelSignIn(loginId).catch(() => undefined);
      await vscode.env.openExternal(vscode.Uri.parse(url));
      await vscode.commands.executeCommand(CommandIds.signInToken, cluster.id);
    });
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

const IDPS_KEY = 'rayConnect.identityProviders';
type Idp = { issuer: string; clientId: string };

/** The identity provider remembered for a cluster (asked earlier), if any. */
export function rememberedIdp(deps: Deps, clusterId: string): Idp | undefined {
  return deps.memento.get<Record<string, Idp>>(IDPS_KEY, {})[clusterId];
}

async function askIdp(deps: Deps, cluster: ClusterSummary): Promise<Idp | undefined> {
  const settings = deps.settings();
  const issuer = await vscode.window.showInputBox({
    title: vscode.l10n.t('Identity provider of {0}', cluster.name),
    prompt: vscode.l10n.t(
      'Your kubeconfig names no OIDC issuer for {0}. Enter the issuer URL.',
      cluster.name,
    ),
    value: settings.oidcIssuer,
    placeHolder: 'https://login.example.com/realms/k8s',
    ignoreFocusOut: true,
    validateInput: (v) =>
      /^https:\/\/\S+$/.test(v.trim()) ? undefined : vscode.l10n.t('Enter an https:// URL'),
  });
  if (!issuer) return undefined;
  const clientId = await vscode.window.showInputBox({
    title: vscode.l10n.t('Identity provider of {0}', cluster.name),
    prompt: vscode.l10n.t('OIDC client id (the audience your API server accepts)'),
    value: settings.oidcClientId || 'kubernetes',
    ignoreFocusOut: true,
    validateInput: (v) => (v.trim() ? undefined : vscode.l10n.t('The client id is empty')),
  });
  if (!clientId) return undefined;
  const idp = { issuer: issuer.trim(), clientId: clientId.trim() };
  await deps.memento.update(IDPS_KEY, {
    ...deps.memento.get<Record<string, Idp>>(IDPS_KEY, {}),
    [cluster.id]: idp,
  });
  return idp;
}
