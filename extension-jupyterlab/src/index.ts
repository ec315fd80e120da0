import { ILayoutRestorer, type JupyterFrontEnd, type JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette, Notification } from '@jupyterlab/apputils';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IStatusBar } from '@jupyterlab/statusbar';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import { LabIcon } from '@jupyterlab/ui-components';
import { messageFor, formatMessage, toErrorInfo, type ErrorInfo, type Translate } from '@ray-connect/shared';
import { COMMAND_CATEGORY, registerCommands, showLogsDialog } from './commands.js';
import { EnvCounts } from './kernels.js';
import { RayModel } from './model.js';
import { RayPanel } from './panel.js';
import { requestAPI } from './request.js';
import { RayStatusItem } from './statusbar.js';

const PLUGIN_ID = '@ray-connect/jupyterlab:plugin';
/** JupyterLab-only command (VS Code has its own view commands): shows the panel, in Notebook 7 too. */
const SHOW_PANEL = 'rayConnect.showPanel';

const rayIcon = new LabIcon({
  name: 'ray-connect:ray',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><g class="jp-icon3" fill="#616161"><circle cx="12" cy="12" r="3"/><circle cx="4" cy="5" r="2"/><circle cx="20" cy="5" r="2"/><circle cx="4" cy="19" r="2"/><circle cx="20" cy="19" r="2"/><path d="M5.4 6.4l4.5 3.9-.9 1L4.5 7.4zm13.2 0l.9 1-4.5 3.9-.9-1zM9.9 13.7l.9 1-4.5 3.9-.9-1zm4.2 0l4.5 3.9-.9 1-4.5-3.9z"/></g></svg>',
});

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description:
    'Ray Connect: sign in to Kubernetes, connect to Ray clusters, Ray env in kernels and terminals.',
  autoStart: true,
  optional: [ICommandPalette, ISettingRegistry, IStatusBar, ITranslator, ILayoutRestorer],
  activate: (
    app: JupyterFrontEnd,
    palette: ICommandPalette | null,
    registry: ISettingRegistry | null,
    statusBar: IStatusBar | null,
    translator: ITranslator | null,
    restorer: ILayoutRestorer | null,
  ) => {
    const trans = (translator ?? nullTranslator).load('ray_connect_jupyterlab');
    // shared/ templates use {0}; JupyterLab's gettext uses %1.
    const t: Translate = (template, ...args) =>
      trans.__(
        template.replace(/\{(\d+)\}/g, (_, i: string) => `%${Number(i) + 1}`),
        ...args,
      );
    const model = new RayModel(t);
    let settings: ISettingRegistry.ISettings | undefined;

    // The server gives the env to kernels and terminals itself; the page only shows its counts.
    const kernels = new EnvCounts((injections) => {
      model.injections = injections;
      model.notify();
    });
    // The server sends env-changed first on every (re)opened event stream, then on each change.
    model.event.connect((_, event) => {
      if (event.type === 'env-changed') kernels.update(event);
    });

    const panel = new RayPanel(model, app.commands, trans, t);
    panel.title.icon = rayIcon;
    // JupyterLab's left sidebar; in Notebook 7 the left side panel of every page (tree, notebook, editor), collapsed
    // until opened from View > Left Sidebar > Show Ray or the command below.
    app.shell.add(panel, 'left', { rank: 900 });
    restorer?.add(panel, 'ray-connect-panel');
    app.commands.addCommand(SHOW_PANEL, {
      label: trans.__('Show Ray Panel'),
      caption: trans.__('Show the Ray panel in the left sidebar'),
      execute: () => app.shell.activateById(panel.id),
    });
    palette?.addItem({ command: SHOW_PANEL, category: COMMAND_CATEGORY });

    // The server was lost and answers again: it may be a new one that knows nothing of this page's settings.
    let serverLost = false;
    model.changed.connect(() => {
      if (model.serverLost === serverLost) return;
      serverLost = model.serverLost;
      app.commands.notifyCommandChanged();
    });
    model.reconnected.connect(() => {
      void applySettings().then(() => kernels.refresh().catch(() => undefined));
    });

    const ids = registerCommands({
      app,
      model,
      kernels,
      trans,
      t,
      settings: () => settings,
      pluginId: PLUGIN_ID,
      showLogs: () => showLogsDialog(model, trans),
    });
    for (const command of ids) palette?.addItem({ command, category: COMMAND_CATEGORY });

    if (statusBar) {
      statusBar.registerStatusItem('ray-connect:status', {
        item: new RayStatusItem(model, app.commands),
        align: 'left',
        rank: 900,
      });
    }

    const applySettings = async (): Promise<void> => {
      if (!settings) return;
      const injectKernels = settings.get('rayConnect.injectKernels').composite !== false;
      const injectTerminals = settings.get('rayConnect.injectTerminals').composite !== false;
      const namespaces = settings.get('rayConnect.namespaces').composite;
      const next = Array.isArray(namespaces)
        ? namespaces.filter((n): n is string => typeof n === 'string' && n.length > 0)
        : [];
      if (next.join(',') !== model.namespaces.join(',')) {
        model.namespaces = next;
        void model.refresh();
      }
      try {
        await requestAPI('env', {
          method: 'PUT',
          body: JSON.stringify({ inject: injectKernels || injectTerminals }),
        });
      } catch {
        // shown by the handshake already
      }
    };

    void model
      .start()
      .then(async () => {
        if (registry) {
          try {
            settings = await registry.load(PLUGIN_ID);
            settings.changed.connect(() => void applySettings());
            await applySettings();
          } catch {
            // no settings: defaults
          }
        }
        await kernels.refresh();
      })
      .catch((error: unknown) => {
        const info: ErrorInfo = toErrorInfo((error as { info?: ErrorInfo }).info ?? error);
        Notification.error(formatMessage(messageFor(info, { t, retryable: false })), { autoClose: false });
      });
  },
};

export default plugin;
