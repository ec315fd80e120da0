import type { JupyterFrontEnd } from '@jupyterlab/application';
import { Clipboard, Dialog, InputDialog, Notification, showDialog } from '@jupyterlab/apputils';
import { PageConfig, URLExt } from '@jupyterlab/coreutils';
import type { ISettingRegistry } from '@jupyterlab/settingregistry';
import type { TranslationBundle } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';
import {
  COMMAND_CATEGORY,
  COMMANDS,
  CommandIds,
  SIGN_IN_CHOICES,
  SettingIds,
  formatMessage,
  messageFor,
  quickActions,
  toErrorInfo,
  type ConnectionSummary,
  type ErrorInfo,
  type RayClusterRef,
  type SignInInput,
  type SignInState,
  type Translate,
} from '@ray-connect/shared';
import { browserDialog, askToken, deviceCodeDialog } from './dialogs.js';
import { withBrowserRedirect } from './signInRedirect.js';
import type { EnvCounts } from './kernels.js';
import type { RayModel } from './model.js';
import { call } from './request.js';

export interface CommandDeps {
  app: JupyterFrontEnd;
  model: RayModel;
  kernels: EnvCounts;
  trans: TranslationBundle;
  t: Translate;
  settings: () => ISettingRegistry.ISettings | undefined;
  pluginId: string;
  showLogs: () => void;
}

type Args = Record<string, unknown>;

function refOf(args: Args): RayClusterRef | undefined {
  const { clusterId, namespace, name } = args;
  return typeof clusterId === 'string' && typeof namespace === 'string' && typeof name === 'string'
    ? { clusterId, namespace, name }
    : undefined;
}

/**
 * Where the browser opens a connection's dashboard: under the Jupyter server's base URL, where the server relays
 * to the forward and adds the Ray token (the browser may be on another machine, the forward is on the server's
 * 127.0.0.1); a dashboard fronted by an OpenShift AI route or gateway opens at its own URL.
 */
export function dashboardHref(
  conn: ConnectionSummary,
  frontedUrl: string | undefined,
  baseUrl: string,
): string {
  if (frontedUrl) return frontedUrl;
  const parts = [conn.clusterId, conn.namespace, conn.name].map(encodeURIComponent);
  return URLExt.join(baseUrl, 'ray-connect', 'dashboard', ...parts) + '/';
}

/** Registers every shared command id in JupyterLab's registry; returns the ids for the palette. */
export function registerCommands(d: CommandDeps): string[] {
  const { app, model, trans, t } = d;

  const fail = (error: unknown, clusterId?: string, retry?: () => void): void => {
    const info: ErrorInfo = toErrorInfo((error as { info?: ErrorInfo }).info ?? error);
    const msg = messageFor(info, { t, clusterId, retryable: !!retry });
    model.log(`error ${info.code}: ${info.message}`);
    const actions = msg.actions.map((a) => ({
      label: a.label,
      callback: () => {
        switch (a.kind) {
          case 'command':
            if (a.command === CommandIds.showLogs) d.showLogs();
            else
              void app.commands.execute(
                a.command,
                typeof a.args[0] === 'string' ? { clusterId: a.args[0] } : {},
              );
            break;
          case 'retry':
            retry?.();
            break;
          case 'copy':
            Clipboard.copyToSystem(a.text);
            break;
          case 'openSetting':
            void app.commands.execute('settingeditor:open', { query: 'Ray Connect' });
            break;
          case 'openFile':
            void app.commands.execute('docmanager:open', { path: a.path });
            break;
        }
      },
    }));
    const text = formatMessage(msg);
    if (msg.severity === 'info') Notification.info(text, { actions, autoClose: 8000 });
    else if (msg.severity === 'warning') Notification.warning(text, { actions, autoClose: false });
    else Notification.error(text, { actions, autoClose: false });
  };

  /** The cluster a command acts on: from args, the only one, or asked. */
  const pickCluster = async (
    args: Args,
    filter: 'any' | 'signed-in' = 'any',
  ): Promise<string | undefined> => {
    if (typeof args.clusterId === 'string') return args.clusterId;
    const candidates = model.clusters.filter((c) => filter === 'any' || c.signIn.status === 'signed-in');
    if (candidates.length === 1) return candidates[0]!.id;
    if (candidates.length === 0) {
      Notification.warning(trans.__('No cluster to act on. Check your kubeconfig, or sign in first.'), {
        autoClose: 6000,
      });
      return undefined;
    }
    const names = candidates.map((c) => c.name);
    const r = await InputDialog.getItem({ title: trans.__('Choose a cluster'), items: names });
    if (!r.button.accept || r.value === null) return undefined;
    return candidates[names.indexOf(r.value)]?.id;
  };

  const pickRay = async (args: Args, connected: boolean): Promise<RayClusterRef | undefined> => {
    const ref = refOf(args);
    if (ref) return ref;
    const options: { label: string; ref: RayClusterRef }[] = [];
    if (connected) {
      for (const c of model.connections)
        options.push({
          label: `${c.name} (${c.namespace})`,
          ref: { clusterId: c.clusterId, namespace: c.namespace, name: c.name },
        });
    } else {
      for (const [clusterId, entry] of Object.entries(model.rayClusters)) {
        if (!entry || !('list' in entry)) continue;
        for (const r of entry.list.items)
          options.push({
            label: `${r.name} (${r.namespace}, ${model.cluster(clusterId)?.name ?? clusterId})`,
            ref: { clusterId, namespace: r.namespace, name: r.name },
          });
      }
    }
    if (options.length === 1) return options[0]!.ref;
    if (options.length === 0) {
      Notification.info(
        connected
          ? trans.__('No Ray cluster is connected.')
          : trans.__('No Ray clusters found. Sign in, or choose other namespaces.'),
        { autoClose: 6000 },
      );
      return undefined;
    }
    const labels = options.map((o) => o.label);
    const r = await InputDialog.getItem({
      title: connected ? trans.__('Choose a connection') : trans.__('Choose a Ray cluster'),
      items: labels,
    });
    if (!r.button.accept || r.value === null) return undefined;
    return options[labels.indexOf(r.value)]?.ref;
  };

  const signedIn = (clusterId: string, state: SignInState | undefined): void => {
    void model.refresh();
    if (!state) return;
    if (state.status === 'signed-in') {
      const name = model.cluster(clusterId)?.name ?? clusterId;
      Notification.success(
        state.identity
          ? trans.__('Signed in to %1 as %2.', name, state.identity.username)
          : trans.__('Signed in to %1.', name),
        { autoClose: 5000 },
      );
    } else if (state.error) fail(state.error, clusterId);
  };

  const runSignIn = async (clusterId: string, requested: SignInInput): Promise<void> => {
    const input = await withBrowserRedirect(requested, model.server?.browserRedirect, trans);
    if (input === 'device') return runSignIn(clusterId, { method: 'device', ...oidc() });
    if (input === undefined) return;
    try {
      const progress = await call('beginSignIn', clusterId, input);
      if (progress.kind === 'done') return signedIn(clusterId, progress.state);
      const cancel = () => call('cancelSignIn', progress.loginId).catch(() => undefined);
      const wait = call('completeSignIn', progress.loginId);
      const state =
        progress.kind === 'device'
          ? await deviceCodeDialog(progress, wait, cancel, trans)
          : await browserDialog(progress, wait, cancel, trans, { offerDevice: input.method === 'browser' });
      if (state === 'device') {
        wait.catch(() => undefined);
        return runSignIn(clusterId, { method: 'device', ...oidc() });
      }
      if (state === undefined) {
        Notification.info(trans.__('Sign-in cancelled.'), { autoClose: 4000 });
        wait.catch(() => undefined);
        return;
      }
      signedIn(clusterId, state);
    } catch (error) {
      const code = toErrorInfo((error as { info?: ErrorInfo }).info ?? error).code;
      if (code === 'LOGIN_CANCELLED') return;
      fail(error, clusterId, () => void runSignIn(clusterId, input));
    }
  };

  const setting = <T>(key: string, fallback: T): T => {
    const v = d.settings()?.get(key).composite;
    return v === undefined || v === null ? fallback : (v as T);
  };

  /** Issuer and client id from the settings, when set (otherwise the agent discovers them). */
  const oidc = (): { issuer?: string; clientId?: string } => {
    const issuer = setting<string>(SettingIds.oidcIssuer, '');
    const clientId = setting<string>(SettingIds.oidcClientId, '');
    return { ...(issuer ? { issuer } : {}), ...(clientId ? { clientId } : {}) };
  };

  const envExports = (env: Record<string, string>): string =>
    Object.entries(env)
      .map(([k, v]) => `export ${k}='${v.replace(/'/g, `'\\''`)}'`)
      .join('\n');

  const add = (
    id: string,
    execute: (args: Args) => Promise<unknown> | unknown,
    isVisible?: () => boolean,
  ): void => {
    const info = COMMANDS.find((c) => c.id === id);
    app.commands.addCommand(id, {
      label: info ? t(info.title) : id,
      caption: info ? t(info.title) : id,
      execute: (args) => execute(args as Args),
      // Server lost: nothing but Refresh (= retry now) and Show logs can work.
      isEnabled: () => !model.serverLost || id === CommandIds.refresh || id === CommandIds.showLogs,
      ...(isVisible ? { isVisible } : {}),
    });
  };

  add(CommandIds.signIn, async (args) => {
    const clusterId = await pickCluster(args);
    if (!clusterId) return;
    const choices = SIGN_IN_CHOICES.filter((c) => !c.onlyInCluster || model.server?.inPod);
    const labels = choices.map((c) => t(c.label));
    const r = await InputDialog.getItem({
      title: trans.__('Sign in to %1', model.cluster(clusterId)?.name ?? clusterId),
      items: labels,
    });
    if (!r.button.accept || r.value === null) return;
    const choice = choices[labels.indexOf(r.value)];
    if (!choice) return;
    if (choice.method === 'token') return app.commands.execute(CommandIds.signInToken, { clusterId });
    const input: SignInInput =
      choice.method === 'device' || choice.method === 'browser'
        ? { method: choice.method, ...oidc() }
        : { method: choice.method };
    await runSignIn(clusterId, input);
  });
  add(CommandIds.signInKubeconfig, async (args) => {
    const clusterId = await pickCluster(args);
    if (clusterId) await runSignIn(clusterId, { method: 'kubeconfig' });
  });
  add(CommandIds.signInDevice, async (args) => {
    const clusterId = await pickCluster(args);
    if (clusterId) await runSignIn(clusterId, { method: 'device', ...oidc() });
  });
  add(CommandIds.signInBrowser, async (args) => {
    const clusterId = await pickCluster(args);
    if (clusterId) await runSignIn(clusterId, { method: 'browser', ...oidc() });
  });
  add(CommandIds.signInToken, async (args) => {
    let clusterId = typeof args.clusterId === 'string' ? args.clusterId : undefined;
    if (!clusterId && model.clusters.length === 0) {
      const server = await InputDialog.getText({
        title: trans.__('Cluster API server URL'),
        placeholder: 'https://api.example.com:6443',
      });
      if (!server.button.accept || !server.value) return;
      try {
        const caFile = setting<string>(SettingIds.caFile, '');
        clusterId = (await call('addCluster', { server: server.value, ...(caFile ? { caFile } : {}) })).id;
        await model.refresh();
      } catch (error) {
        return fail(error);
      }
    }
    clusterId = clusterId ?? (await pickCluster(args));
    if (!clusterId) return;
    const token = await askToken(trans, model.cluster(clusterId)?.name ?? clusterId);
    if (token) await runSignIn(clusterId, { method: 'token', token });
  });
  add(CommandIds.signOut, async (args) => {
    const clusterId = await pickCluster(args, 'signed-in');
    if (!clusterId) return;
    try {
      const r = await call('signOut', clusterId);
      Notification.info(
        r.removed.length
          ? trans.__('Signed out. Removed: %1.', r.removed.join(', '))
          : trans.__('Signed out.'),
        { autoClose: 6000 },
      );
      await model.refresh();
    } catch (error) {
      fail(error, clusterId);
    }
  });
  add(CommandIds.refresh, () => model.refresh());
  add(CommandIds.connect, async (args) => {
    const ref = await pickRay(args, false);
    if (!ref) return;
    const id = Notification.emit(
      trans.__(
        'Connecting to %1: checking access, reading token, forwarding, verifying with Ray...',
        ref.name,
      ),
      'in-progress',
      { autoClose: false },
    );
    try {
      const dashboardPort = setting<number>(SettingIds.dashboardPort, 0);
      const clientPort = setting<number>(SettingIds.clientPort, 0);
      const conn = await call('connect', ref, { dashboardPort, clientPort });
      await model.refresh();
      Notification.update({
        id,
        type: 'success',
        autoClose: 8000,
        message: trans.__(
          'Connected to %1. New terminals and kernels, and running Python kernels, get RAY_ADDRESS and the token (terminals already open keep their environment).',
          ref.name,
        ),
        actions: [
          ...(conn.dashboardUrl
            ? [
                {
                  label: trans.__('Open dashboard'),
                  callback: () => void app.commands.execute(CommandIds.openDashboard, { ...ref }),
                },
              ]
            : []),
          {
            label: trans.__('New terminal'),
            callback: () => void app.commands.execute(CommandIds.newTerminal, { ...ref }),
          },
        ],
      });
    } catch (error) {
      Notification.dismiss(id);
      fail(error, ref.clusterId, () => void app.commands.execute(CommandIds.connect, { ...ref }));
    }
  });
  add(CommandIds.disconnect, async (args) => {
    const ref = await pickRay(args, true);
    if (!ref) return;
    try {
      const r = await call('disconnect', ref);
      Notification.info(
        r.removed.length
          ? trans.__('Disconnected from %1. Removed: %2.', ref.name, r.removed.join(', '))
          : trans.__('Disconnected from %1.', ref.name),
        { autoClose: 6000 },
      );
      await model.refresh();
    } catch (error) {
      fail(error, ref.clusterId);
    }
  });
  add(CommandIds.openDashboard, async (args) => {
    const ref = await pickRay(args, true);
    if (!ref) return;
    const conn = model.connections.find(
      (c) => c.clusterId === ref.clusterId && c.namespace === ref.namespace && c.name === ref.name,
    );
    const entry = model.rayClusters[ref.clusterId];
    const ray = (entry && 'list' in entry ? entry.list.items : []).find(
      (r) => r.namespace === ref.namespace && r.name === ref.name,
    );
    const fronted = conn && 'path' in conn && conn.path === 'fronted' ? conn.dashboardUrl : undefined;
    if (conn?.dashboardUrl)
      window.open(
        dashboardHref(conn, fronted ?? ray?.frontedBy?.url, PageConfig.getBaseUrl()),
        '_blank',
        'noopener',
      );
    else Notification.info(trans.__('Connect to %1 first.', ref.name), { autoClose: 5000 });
  });
  add(CommandIds.copyToken, async (args) => {
    const ref = await pickRay(args, true);
    if (!ref) return;
    try {
      Clipboard.copyToSystem((await call('rayToken', ref)).token);
      Notification.info(trans.__('Ray token of %1 copied.', ref.name), { autoClose: 4000 });
    } catch (error) {
      fail(error, ref.clusterId);
    }
  });
  add(CommandIds.copyEnv, async (args) => {
    const ref = await pickRay(args, true);
    if (!ref) return;
    try {
      Clipboard.copyToSystem(envExports((await call('sessionEnv', ref)).env));
      Notification.info(trans.__('Environment exports of %1 copied (they contain the token).', ref.name), {
        autoClose: 4000,
      });
    } catch (error) {
      fail(error, ref.clusterId);
    }
  });
  add(CommandIds.injectKernel, async () => {
    try {
      const state = await d.kernels.reapply();
      Notification.info(
        state.active
          ? trans.__('The Jupyter server is applying the Ray environment to running Python kernels.')
          : trans.__('No Ray cluster is connected: there is no environment to apply.'),
        { autoClose: 4000 },
      );
    } catch (error) {
      fail(error);
    }
  });
  add(CommandIds.newTerminal, () => app.commands.execute('terminal:create-new'));
  add(CommandIds.selectNamespaces, async (args) => {
    const clusterId = await pickCluster(args);
    if (!clusterId) return;
    const current = model.cluster(clusterId)?.namespaces.join(', ') ?? '';
    const r = await InputDialog.getText({
      title: trans.__('Namespaces to search (comma-separated)'),
      text: current,
    });
    if (!r.button.accept || r.value === null) return;
    const namespaces = r.value.split(/[,\s]+/).filter(Boolean);
    try {
      await call('setNamespaces', clusterId, namespaces);
      await model.refresh();
    } catch (error) {
      fail(error, clusterId);
    }
  });
  add(CommandIds.showLogs, () => d.showLogs());
  add(CommandIds.quickActions, async () => {
    const actions = quickActions({
      clusters: model.clusters,
      connections: model.connections,
      now: Date.now(),
      t,
    });
    const labels = actions.map((a) => a.label);
    const r = await InputDialog.getItem({ title: trans.__('Ray Connect'), items: labels });
    if (!r.button.accept || r.value === null) return;
    const a = actions[labels.indexOf(r.value)];
    if (!a) return;
    const first = a.args[0];
    const args =
      typeof first === 'string'
        ? { clusterId: first }
        : typeof first === 'object' && first !== null
          ? { ...(first as RayClusterRef) }
          : {};
    await app.commands.execute(a.command, args);
  });
  return COMMANDS.map((c) => c.id);
}

/** A read-only dialog with the in-memory log lines (never holds a token). */
export function showLogsDialog(model: RayModel, trans: TranslationBundle): void {
  const body = new Widget({ node: document.createElement('pre') });
  body.addClass('rc-logs');
  body.node.textContent = model.logs.length
    ? model.logs.join('\n')
    : trans.__("No log lines yet. The Jupyter server log has the agent's log.");
  void showDialog({
    title: trans.__('Ray Connect logs'),
    body,
    buttons: [Dialog.okButton({ label: trans.__('Close') })],
  });
}

export { COMMAND_CATEGORY };
