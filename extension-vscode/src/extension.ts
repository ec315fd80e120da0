import * as vscode from 'vscode';
import { refKey, type RayConnectApi, type ViewModel } from '@ray-connect/shared';
import { Redactor } from './host/redact';
import { ChannelLogger } from './host/logger';
import { HostEvents } from './host/events';
import { readSettings } from './host/settings';
import type { CreatedApi } from './api/createApi';
import { LazyApi } from './api/lazyApi';
import { loadCore } from './api/loadCore';
import { Store } from './state';
import { EnvInjector } from './terminal/envInjector';
import { KernelInjector } from './kernels/kernelInjector';
import { ClustersTreeProvider } from './views/clustersTree';
import { RayStatusBar } from './views/statusBar';
import { registerCommands } from './commands';
import type { Deps } from './commands/deps';
import { sessionEnv } from './ui/session';
import { showError } from './ui/errors';

/** What the extension exports: for other extensions and the e2e tests (no secrets). */
export interface RayConnectExports {
  api: RayConnectApi;
  fake: boolean;
  events: HostEvents;
  viewModel(): ViewModel;
  statusText(): string;
  /** Names (not values) of the variables currently in the terminal env collection. */
  terminalEnvNames(): string[];
  /** Keys (not values) stored in SecretStorage by Ray Connect. */
  secretKeys(): Promise<string[]>;
  /**
   * Only when VS Code runs the extension's tests (ExtensionMode.Test): the values in SecretStorage, for the e2e leak
   * search (kept in memory there). Absent otherwise.
   */
  testSecretValues?(): Promise<string[]>;
  ready: Promise<void>;
  /** Where the time went (ms): inside activate(), loading the core (dist/core.js), activation to ready. */
  timings: { activateMs: number; coreLoadMs?: number; readyMs?: number };
}

/**
 * Composition root: wires SecretStorage, LogOutputChannel, openExternal, the terminal env collection and Jupyter into
 * the core. Activation is cheap and synchronous: this bundle (dist/extension.js) holds only the views, commands and
 * status bar; the core with its protocol libraries (dist/core.js) is loaded right after activate() returned, while
 * the tree shows its loading state, or earlier by the first command that needs it (LazyApi).
 */
export function activate(context: vscode.ExtensionContext): RayConnectExports {
  const started = performance.now();
  const timings: RayConnectExports['timings'] = { activateMs: 0 };
  const output = vscode.window.createOutputChannel('Ray Connect', { log: true });
  const redactor = new Redactor();
  const settings = readSettings();
  const log = new ChannelLogger(output, redactor, settings.logLevel);
  const fake = process.env.RAY_CONNECT_FAKE === '1';
  let created: CreatedApi | undefined;
  let secretKeys: (() => Promise<string[]>) | undefined;
  const api = new LazyApi(async () => {
    const t0 = performance.now();
    await vscode.workspace.fs.createDirectory(context.globalStorageUri);
    const core = loadCore();
    const secrets = new core.VsCodeSecretStore(context.secrets, context.globalState);
    secretKeys = () => secrets.keys('');
    const oidc: { issuer?: string; clientId?: string } = {};
    if (settings.oidcIssuer) oidc.issuer = settings.oidcIssuer;
    if (settings.oidcClientId) oidc.clientId = settings.oidcClientId;
    created = core.createApi({
      secrets,
      logger: log,
      browser: { open: (url: string) => Promise.resolve(vscode.env.openExternal(vscode.Uri.parse(url))) },
      configDir: context.globalStorageUri.fsPath,
      version: String((context.extension.packageJSON as { version?: string }).version ?? '0.0.0'),
      caFile: settings.caFile,
      insecureSkipTlsVerify: settings.insecureSkipTlsVerify,
      oidc,
    });
    timings.coreLoadMs = performance.now() - t0;
    return created.api;
  });
  if (settings.insecureSkipTlsVerify)
    log.warn('rayConnect.insecureSkipTlsVerify is on: TLS certificates are NOT verified (security risk)');

  const store = new Store(api, log);
  const events = new HostEvents();
  const terminalCounts = new Map<string, number>();
  const env = new EnvInjector(
    context.environmentVariableCollection,
    (ref) =>
      vscode.l10n.t('Ray Connect: RAY_ADDRESS and the Ray token of {0} ({1})', ref.name, ref.namespace),
    (v) => redactor.addSecret(v),
  );
  const kernels = new KernelInjector(log, async (ref) => (await sessionEnv(deps, ref)).env);
  const deps: Deps = {
    api,
    store,
    log,
    output,
    redactor,
    env,
    kernels,
    settings: readSettings,
    events,
    terminalCounts,
    memento: context.globalState,
  };

  const injections = (): Record<string, { terminals: number; kernels: number }> => {
    const out: Record<string, { terminals: number; kernels: number }> = {};
    for (const { ref } of env.refs())
      out[refKey(ref)] = { terminals: terminalCounts.get(refKey(ref)) ?? 0, kernels: kernels.count(ref) };
    return out;
  };
  const tree = new ClustersTreeProvider(store, injections);
  const view = vscode.window.createTreeView('rayConnect.clusters', {
    treeDataProvider: tree,
    showCollapseAll: true,
  });
  const welcome = vscode.window.createTreeView('rayConnect.welcome', {
    treeDataProvider: { getChildren: () => [], getTreeItem: (e: never) => e },
  });
  const statusBar = new RayStatusBar(store);

  const updateContext = () => {
    void vscode.commands.executeCommand('setContext', 'rayConnect.loaded', store.loaded);
    void vscode.commands.executeCommand('setContext', 'rayConnect.signedIn', store.anySignedIn());
    void vscode.commands.executeCommand(
      'setContext',
      'rayConnect.connected',
      store.liveConnections().length > 0,
    );
  };
  store.onDidChange(updateContext);

  store.start((event) => {
    if (event.type === 'token-rotated' && env.isInjected(event.ref)) {
      // New token: new values for the same names in the env collection and tracked kernels.
      void sessionEnv(deps, event.ref)
        .then((s) => env.rotate(event.ref, s.env, s.tokenVersion))
        .then(() => kernels.rotate(event.ref))
        .then(() => log.info('token rotated: terminal and kernel env updated', { name: event.ref.name }))
        .catch((e: unknown) => log.warn('updating env after token rotation failed', { error: String(e) }));
    }
    if (event.type === 'connection-changed') rememberConnections(context, store);
    if (event.type === 'connection-changed' && event.connection.state === 'disconnected') {
      env.clear(event.connection);
      void kernels.clear(event.connection);
    }
    if (event.type === 'sign-in-changed' && event.state.status !== 'signed-in') {
      env.clearCluster(event.clusterId);
      void kernels.clear(undefined, event.clusterId);
    }
  });

  context.subscriptions.push(
    output,
    view,
    welcome,
    tree,
    statusBar,
    kernels,
    { dispose: () => store.dispose() },
    { dispose: () => void created?.close().catch(() => undefined) },
    ...registerCommands(deps),
    vscode.window.onDidOpenTerminal(() => {
      for (const { ref } of env.refs())
        terminalCounts.set(refKey(ref), (terminalCounts.get(refKey(ref)) ?? 0) + 1);
      tree.rebuild();
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('rayConnect.logLevel')) log.level = readSettings().logLevel;
      if (e.affectsConfiguration('rayConnect.namespaces')) void applyNamespaces(deps, true);
      if (
        ['caFile', 'insecureSkipTlsVerify', 'oidc'].some((k) => e.affectsConfiguration(`rayConnect.${k}`))
      ) {
        // The core reads these once (configuration is resolved once and frozen): a reload applies them.
        const reload = vscode.l10n.t('Reload Window');
        void vscode.window
          .showInformationMessage(
            vscode.l10n.t('Ray Connect applies the new TLS and identity provider settings after a reload.'),
            reload,
          )
          .then((c) =>
            c === reload ? vscode.commands.executeCommand('workbench.action.reloadWindow') : undefined,
          );
      }
      if (e.affectsConfiguration('rayConnect.injectTerminals') && !readSettings().injectTerminals)
        env.clear();
    }),
  );

  // The core loads after activate() returned (a macrotask later), so activation never waits for it.
  const ready = new Promise<void>((resolve) => setTimeout(resolve, 0))
    .then(() => store.refresh())
    .then(
      async () => {
        timings.readyMs = performance.now() - started;
        log.info(`Ray Connect ready in ${Math.round(timings.readyMs)} ms`, {
          activateMs: Math.round(timings.activateMs),
          coreLoadMs: Math.round(timings.coreLoadMs ?? 0),
          clusters: store.clusters.length,
          fake,
        });
        await applyNamespaces(deps, false);
        if (readSettings().autoConnect) await autoConnect(context, store);
      },
      (e: unknown) => showError(deps, e, { retry: () => store.refresh(), attempting: 'reading clusters' }),
    );
  updateContext();
  timings.activateMs = performance.now() - started;

  return {
    timings,
    api,
    fake,
    events,
    ready,
    viewModel: () => tree.viewModel,
    statusText: () => statusBar.text,
    terminalEnvNames: () => {
      const names: string[] = [];
      context.environmentVariableCollection.forEach((name) => names.push(name));
      return names;
    },
    secretKeys: async () => {
      await api.get();
      return secretKeys ? secretKeys() : [];
    },
    ...(context.extensionMode === vscode.ExtensionMode.Test
      ? {
          testSecretValues: async () => {
            await api.get();
            const values: string[] = [];
            for (const key of secretKeys ? await secretKeys() : []) {
              const v = await context.secrets.get(key);
              if (v) values.push(v);
            }
            return values;
          },
        }
      : {}),
  };
}

/**
 * `rayConnect.namespaces`: the namespaces searched by default. At start it only fills clusters still on their default
 * (the context namespace); when the setting changes it applies to every cluster.
 */
async function applyNamespaces(deps: Deps, changed: boolean): Promise<void> {
  const wanted = readSettings().namespaces.filter((n) => n.trim());
  if (wanted.length === 0) return;
  let touched = false;
  for (const c of deps.store.clusters) {
    const onDefault = c.namespaces.length === 1 && c.namespaces[0] === c.namespace;
    if (c.namespaces.join(',') === wanted.join(',') || (!changed && !onDefault)) continue;
    await deps.api.setNamespaces(c.id, wanted).then(
      () => (touched = true),
      (e: unknown) => deps.log.warn('setting namespaces failed', { cluster: c.id, error: String(e) }),
    );
  }
  if (touched) await deps.store.refresh().catch(() => undefined);
}

const LAST_CONNECTIONS = 'rayConnect.lastConnections';

/** Remembers which Ray clusters were connected (refs only, no secrets) for `rayConnect.autoConnect`. */
function rememberConnections(context: vscode.ExtensionContext, store: Store): void {
  const refs = store
    .liveConnections()
    .map((c) => ({ clusterId: c.clusterId, namespace: c.namespace, name: c.name }));
  void context.globalState.update(LAST_CONNECTIONS, refs);
}

async function autoConnect(context: vscode.ExtensionContext, store: Store): Promise<void> {
  const refs = context.globalState.get<{ clusterId: string; namespace: string; name: string }[]>(
    LAST_CONNECTIONS,
    [],
  );
  for (const ref of refs) {
    const cluster = store.cluster(ref.clusterId);
    if (!cluster || !store.isSignedIn(cluster)) continue;
    await vscode.commands.executeCommand('rayConnect.connect', ref).then(undefined, () => undefined);
  }
}

export function deactivate(): void {
  // Subscriptions dispose the views, port-forwards stay with the core's process lifetime.
}
