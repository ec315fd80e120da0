/**
 * Command ids and titles, the same in every editor. VS Code contributes them under the category "Ray"; JupyterLab
 * registers the same ids in its command registry and palette. Titles are plain English templates that a host
 * translates; `icon` is a codicon id (JupyterLab maps it to its own icons).
 */
export const COMMAND_CATEGORY = 'Ray';

export const CommandIds = {
  signIn: 'rayConnect.signIn',
  signInKubeconfig: 'rayConnect.useKubeconfig',
  signInDevice: 'rayConnect.signInDevice',
  signInBrowser: 'rayConnect.signInBrowser',
  signInToken: 'rayConnect.signInToken',
  signOut: 'rayConnect.signOut',
  refresh: 'rayConnect.refresh',
  connect: 'rayConnect.connect',
  disconnect: 'rayConnect.disconnect',
  openDashboard: 'rayConnect.openDashboard',
  copyToken: 'rayConnect.copyToken',
  copyEnv: 'rayConnect.copyEnv',
  injectKernel: 'rayConnect.injectKernel',
  newTerminal: 'rayConnect.newTerminal',
  selectNamespaces: 'rayConnect.selectNamespaces',
  showLogs: 'rayConnect.showLogs',
  quickActions: 'rayConnect.quickActions',
} as const;

export type CommandKey = keyof typeof CommandIds;
export type CommandId = (typeof CommandIds)[CommandKey];

/** What a command acts on when it is run from a tree row (the palette asks instead). */
export type CommandTarget = 'none' | 'cluster' | 'rayCluster' | 'connection';

export interface CommandInfo {
  id: CommandId;
  /** Title template, English; translate it at the edge. */
  title: string;
  /** Shorter label for inline tree buttons and toasts. */
  shortTitle: string;
  category: typeof COMMAND_CATEGORY;
  /** Codicon id, e.g. "plug". */
  icon?: string;
  target: CommandTarget;
}

export const COMMANDS: readonly CommandInfo[] = [
  {
    id: CommandIds.signIn,
    title: 'Sign In...',
    shortTitle: 'Sign in',
    category: COMMAND_CATEGORY,
    icon: 'sign-in',
    target: 'cluster',
  },
  {
    id: CommandIds.signInKubeconfig,
    title: 'Use Kubeconfig Context...',
    shortTitle: 'Use kubeconfig',
    category: COMMAND_CATEGORY,
    icon: 'file-code',
    target: 'cluster',
  },
  {
    id: CommandIds.signInDevice,
    title: 'Sign In with Device Code',
    shortTitle: 'Sign in with device code',
    category: COMMAND_CATEGORY,
    icon: 'device-mobile',
    target: 'cluster',
  },
  {
    id: CommandIds.signInBrowser,
    title: 'Sign In with Browser',
    shortTitle: 'Sign in with browser',
    category: COMMAND_CATEGORY,
    icon: 'globe',
    target: 'cluster',
  },
  {
    id: CommandIds.signInToken,
    title: 'Sign In with a Token...',
    shortTitle: 'Paste a token',
    category: COMMAND_CATEGORY,
    icon: 'key',
    target: 'cluster',
  },
  {
    id: CommandIds.signOut,
    title: 'Sign Out',
    shortTitle: 'Sign out',
    category: COMMAND_CATEGORY,
    icon: 'sign-out',
    target: 'cluster',
  },
  {
    id: CommandIds.refresh,
    title: 'Refresh',
    shortTitle: 'Refresh',
    category: COMMAND_CATEGORY,
    icon: 'refresh',
    target: 'none',
  },
  {
    id: CommandIds.connect,
    title: 'Connect to Ray Cluster...',
    shortTitle: 'Connect',
    category: COMMAND_CATEGORY,
    icon: 'plug',
    target: 'rayCluster',
  },
  {
    id: CommandIds.disconnect,
    title: 'Disconnect from Ray Cluster',
    shortTitle: 'Disconnect',
    category: COMMAND_CATEGORY,
    icon: 'debug-disconnect',
    target: 'connection',
  },
  {
    id: CommandIds.openDashboard,
    title: 'Open Ray Dashboard',
    shortTitle: 'Open dashboard',
    category: COMMAND_CATEGORY,
    icon: 'link-external',
    target: 'connection',
  },
  {
    id: CommandIds.copyToken,
    title: 'Copy Ray Token',
    shortTitle: 'Copy token',
    category: COMMAND_CATEGORY,
    icon: 'key',
    target: 'connection',
  },
  {
    id: CommandIds.copyEnv,
    title: 'Copy Environment Exports',
    shortTitle: 'Copy env',
    category: COMMAND_CATEGORY,
    icon: 'copy',
    target: 'connection',
  },
  {
    id: CommandIds.injectKernel,
    title: 'Apply Ray Environment to Running Kernel',
    shortTitle: 'Apply to kernel',
    category: COMMAND_CATEGORY,
    icon: 'notebook',
    target: 'connection',
  },
  {
    id: CommandIds.newTerminal,
    title: 'New Terminal with Ray Environment',
    shortTitle: 'New terminal',
    category: COMMAND_CATEGORY,
    icon: 'terminal',
    target: 'connection',
  },
  {
    id: CommandIds.selectNamespaces,
    title: 'Choose Namespaces...',
    shortTitle: 'Choose namespaces',
    category: COMMAND_CATEGORY,
    icon: 'filter',
    target: 'cluster',
  },
  {
    id: CommandIds.showLogs,
    title: 'Show Logs',
    shortTitle: 'Show logs',
    category: COMMAND_CATEGORY,
    icon: 'output',
    target: 'none',
  },
  {
    id: CommandIds.quickActions,
    title: 'Quick Actions...',
    shortTitle: 'Quick actions',
    category: COMMAND_CATEGORY,
    icon: 'zap',
    target: 'none',
  },
];

const byId = new Map<string, CommandInfo>(COMMANDS.map((c) => [c.id, c]));

export function commandInfo(id: CommandId): CommandInfo {
  const info = byId.get(id);
  if (!info) throw new Error(`unknown command ${id}`);
  return info;
}

export function isCommandId(value: unknown): value is CommandId {
  return typeof value === 'string' && byId.has(value);
}

/** One sign-in chooser, the same order everywhere (ux.md "Sign in"). */
export interface SignInChoice {
  method: 'kubeconfig' | 'device' | 'browser' | 'token' | 'in-cluster';
  command: CommandId | undefined;
  label: string;
  detail: string;
  /** Only offered when running inside a pod. */
  onlyInCluster?: boolean;
}

export const SIGN_IN_CHOICES: readonly SignInChoice[] = [
  {
    method: 'kubeconfig',
    command: CommandIds.signInKubeconfig,
    label: 'Use kubeconfig context...',
    detail: 'Use the credentials your kubeconfig already has (exec plugins, tokens, certificates).',
  },
  {
    method: 'device',
    command: CommandIds.signInDevice,
    label: 'Sign in with device code (OIDC)',
    detail: 'Enter a short code in any browser. Works when the editor runs remotely.',
  },
  {
    method: 'browser',
    command: CommandIds.signInBrowser,
    label: 'Sign in with browser (OIDC or OpenShift)',
    detail: 'Opens your system browser; come back when it says you can close the tab.',
  },
  {
    method: 'token',
    command: CommandIds.signInToken,
    label: 'Paste a token',
    detail: 'From `oc whoami -t` or `kubectl create token ...`; checked at once.',
  },
  {
    method: 'in-cluster',
    command: undefined,
    label: "Use this pod's service account",
    detail: 'Only inside a Kubernetes pod.',
    onlyInCluster: true,
  },
];
