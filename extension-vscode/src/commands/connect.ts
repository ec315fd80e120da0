import * as vscode from 'vscode';
import { CommandIds, type ConnectOptions, type ErrorInfo, type RayClusterRef } from '@ray-connect/shared';
import type { Deps } from './deps';
import { resolveRayCluster } from '../ui/pick';
import { showError } from '../ui/errors';
import { applyTerminalEnv } from '../ui/session';

/**
 * rayConnect.connect: checking access -> reading token -> forwarding -> verifying with Ray -> updating terminals
 * and kernels, as named progress steps. Then offers the running Python kernels.
 */
export async function connect(deps: Deps, arg?: unknown, options?: unknown): Promise<unknown> {
  const ref = await resolveRayCluster(
    deps,
    arg,
    (r, c) => r.state === 'ready' && (!c || c.state !== 'ready'),
    vscode.l10n.t('Connect to which Ray cluster?'),
  );
  if (!ref) {
    void vscode.window.showInformationMessage(
      vscode.l10n.t('No Ray cluster ready to connect. Sign in, or choose other namespaces.'),
    );
    return undefined;
  }
  const settings = deps.settings();
  const scope = await pickScope(deps, options);
  if (scope === null) return undefined;
  try {
    const connection = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Connecting to {0}', ref.name) },
      async (progress) => {
        progress.report({ message: vscode.l10n.t('checking access...') });
        const access = await deps.api.checkAccess(ref);
        if (!access.allowed)
          throw (
            access.error ??
            ({
              code: 'ACCESS_DENIED',
              message: vscode.l10n.t('Access to {0} was denied.', ref.name),
            } satisfies ErrorInfo)
          );
        progress.report({ message: vscode.l10n.t('reading token, forwarding, verifying with Ray...') });
        const options: ConnectOptions = {};
        // auto stays unset, so RAY_CONNECT_PATH in the server's env still decides
        if (settings.connectionPath && settings.connectionPath !== 'auto')
          options.path = settings.connectionPath;
        if (settings.dashboardPort) options.dashboardPort = settings.dashboardPort;
        if (settings.clientPort) options.clientPort = settings.clientPort;
        const c = await deps.api.connect(ref, options);
        progress.report({ message: vscode.l10n.t('updating terminals and kernels...') });
        await applyTerminalEnv(deps, ref, scope);
        return c;
      },
    );
    deps.events.emit({ type: 'connected', ...ref });
    await deps.store.refreshRayClusters(ref.clusterId).catch(() => undefined);
    void offerKernels(deps, ref);
    const open = vscode.l10n.t('Open dashboard');
    const term = vscode.l10n.t('New terminal');
    void vscode.window
      .showInformationMessage(
        settings.injectTerminals
          ? vscode.l10n.t(
              'Connected to {0}. New terminals and Python kernels get RAY_ADDRESS and the token.',
              ref.name,
            )
          : vscode.l10n.t('Connected to {0} ({1}).', ref.name, connection.dashboardUrl ?? ''),
        open,
        term,
      )
      .then((c) =>
        c === open
          ? vscode.commands.executeCommand(CommandIds.openDashboard, ref)
          : c === term
            ? vscode.commands.executeCommand(CommandIds.newTerminal, ref)
            : undefined,
      );
    return connection;
  } catch (e) {
    await showError(deps, e, {
      clusterId: ref.clusterId,
      retry: () => connect(deps, ref, options),
      attempting: `connecting to ${ref.name}`,
    });
    return undefined;
  }
}

async function offerKernels(deps: Deps, ref: RayClusterRef): Promise<void> {
  if (!deps.settings().injectKernels || !deps.kernels.available) return;
  const running = (await deps.kernels.runningKernels()).filter(
    (k) => k.kernel.language.toLowerCase() === 'python',
  );
  if (running.length === 0) return;
  const apply = vscode.l10n.t('Apply');
  const choice = await vscode.window.showInformationMessage(
    running.length === 1
      ? vscode.l10n.t('Apply the Ray environment of {0} to the running kernel?', ref.name)
      : vscode.l10n.t(
          'Apply the Ray environment of {0} to the {1} running kernels?',
          ref.name,
          running.length,
        ),
    apply,
  );
  if (choice !== apply) return;
  for (const k of running) {
    const r = await deps.kernels
      .applyToNotebook(k.uri, ref)
      .catch((e: unknown) => ({ ok: false as const, reason: String(e) }));
    if (!r.ok) void vscode.window.showWarningMessage(r.reason);
  }
}

/**
 * Multi-root workspaces: which terminals get this Ray cluster's env, all of them or one folder's (folders can then
 * use different Ray clusters). Single folder: the window. `null` = cancelled. Automation may pass `{ folder: <name> }`.
 */
async function pickScope(
  deps: Deps,
  options: unknown,
): Promise<vscode.EnvironmentVariableScope | undefined | null> {
  const folders = vscode.workspace.workspaceFolders ?? [];
  if (folders.length < 2 || !deps.settings().injectTerminals) return undefined;
  const named =
    typeof options === 'object' && options !== null ? (options as { folder?: unknown }).folder : undefined;
  if (typeof named === 'string') {
    const f = folders.find((x) => x.name === named);
    return f ? { workspaceFolder: f } : undefined;
  }
  const all = {
    label: vscode.l10n.t('All terminals'),
    folder: undefined as vscode.WorkspaceFolder | undefined,
  };
  const picked = await vscode.window.showQuickPick(
    [
      all,
      ...folders.map((f) => ({
        label: vscode.l10n.t('Terminals of {0}', f.name),
        folder: f as vscode.WorkspaceFolder | undefined,
      })),
    ],
    { placeHolder: vscode.l10n.t('Which terminals get the Ray environment?'), ignoreFocusOut: true },
  );
  if (!picked) return null;
  return picked.folder ? { workspaceFolder: picked.folder } : undefined;
}
