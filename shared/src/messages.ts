import type { ErrorCode, ErrorInfo } from './errors.js';
import { CommandIds, type CommandId } from './commands.js';
import { SettingIds, type SettingId } from './settings.js';
import { defaultTranslate, type Translate } from './format.js';

/**
 * Error code -> what the user sees: a title, one line of cause, the fix, and buttons (ux.md "Messages").
 * Built at the edge from an ErrorInfo; hosts decide by code, never by message text. Every error carries "Show logs".
 */
export type MessageSeverity = 'error' | 'warning' | 'info';

export type MessageAction =
  | { kind: 'command'; label: string; command: CommandId; args: unknown[] }
  | { kind: 'retry'; label: string }
  | { kind: 'copy'; label: string; text: string }
  | { kind: 'openSetting'; label: string; setting: SettingId }
  | { kind: 'openFile'; label: string; path: string };

export interface UserMessage {
  code: ErrorCode;
  severity: MessageSeverity;
  title: string;
  /** One line: what happened and why (the core's message, already safe to show). */
  cause: string;
  /** The exact fix, when known. */
  fix?: string;
  actions: MessageAction[];
}

export interface MessageContext {
  /** Cluster the error is about: enables "Sign in" for that cluster. */
  clusterId?: string;
  /** Show a "Retry" button (the host has the operation to repeat). Default true. */
  retryable?: boolean;
  t?: Translate;
}

type ActionSpec =
  | 'signIn'
  | 'retry'
  | 'copyRequest'
  | 'copyCommands'
  | 'openCaSetting'
  | 'openFile'
  | 'refresh'
  | 'chooseNamespaces'
  | 'signInToken';

interface Spec {
  severity: MessageSeverity;
  title: string;
  actions: ActionSpec[];
}

const SPECS: Record<ErrorCode, Spec> = {
  KUBECONFIG_INVALID: { severity: 'error', title: "Can't read kubeconfig", actions: ['openFile'] },
  KUBECONFIG_NOT_FOUND: { severity: 'warning', title: 'No kubeconfig found', actions: ['signInToken'] },
  CONTEXT_NOT_FOUND: { severity: 'error', title: 'Kubeconfig context not found', actions: ['refresh'] },
  TLS_UNTRUSTED: { severity: 'error', title: 'Certificate not trusted', actions: ['openCaSetting'] },
  CLUSTER_UNREACHABLE: { severity: 'error', title: "Can't reach the cluster", actions: ['retry'] },
  TOKEN_INVALID: { severity: 'error', title: 'Sign-in not accepted', actions: ['signIn'] },
  TOKEN_EXPIRED: { severity: 'warning', title: 'Sign-in expired', actions: ['signIn'] },
  SIGNED_OUT: { severity: 'warning', title: 'Not signed in', actions: ['signIn'] },
  ACCESS_DENIED: { severity: 'error', title: 'Access denied', actions: ['copyRequest'] },
  EXEC_PLUGIN_FAILED: {
    severity: 'error',
    title: 'Kubeconfig credential plugin failed',
    actions: ['retry', 'openFile'],
  },
  EXEC_PLUGIN_INTERACTIVE: {
    severity: 'error',
    title: 'Credential plugin needs a terminal',
    actions: ['signIn'],
  },
  IDP_UNREACHABLE: { severity: 'error', title: "Can't reach the identity provider", actions: ['retry'] },
  IDP_ERROR: { severity: 'error', title: 'The identity provider refused the sign-in', actions: ['signIn'] },
  DEVICE_CODE_EXPIRED: { severity: 'warning', title: 'The device code expired', actions: ['signIn'] },
  LOGIN_CANCELLED: { severity: 'info', title: 'Sign-in cancelled', actions: [] },
  LOGIN_NOT_FOUND: {
    severity: 'warning',
    title: 'This sign-in is no longer in progress',
    actions: ['signIn'],
  },
  LOGIN_STATE_MISMATCH: { severity: 'error', title: 'Not the answer to this sign-in', actions: ['signIn'] },
  REFRESH_FAILED: { severity: 'error', title: "Couldn't renew your sign-in", actions: ['signIn', 'retry'] },
  KEYCHAIN_UNAVAILABLE: { severity: 'warning', title: 'No OS keychain', actions: [] },
  KEYCHAIN_LOCKED: { severity: 'warning', title: 'The keychain is locked', actions: ['retry'] },
  SECRET_STORE_FAILED: { severity: 'error', title: "Couldn't store a secret", actions: ['retry'] },
  RAYCLUSTER_NOT_FOUND: { severity: 'error', title: 'Ray cluster not found', actions: ['refresh'] },
  RAYCLUSTER_NOT_READY: { severity: 'warning', title: 'Ray cluster not ready', actions: ['retry'] },
  RAY_TOKEN_NOT_FOUND: { severity: 'error', title: 'Ray token not found', actions: ['retry'] },
  RAY_REJECTED_TOKEN: { severity: 'error', title: 'Ray refused the token', actions: ['retry'] },
  RAY_NO_TOKEN_SENT: { severity: 'error', title: 'Ray expected a token', actions: ['retry'] },
  RAY_UNREACHABLE: { severity: 'error', title: "Can't reach Ray", actions: ['retry'] },
  PORT_IN_USE: { severity: 'info', title: 'Port in use', actions: [] },
  PORT_FORWARD_FAILED: { severity: 'error', title: 'Port forwarding failed', actions: ['retry'] },
  AGENT_UNAVAILABLE: { severity: 'error', title: 'Ray Connect agent not running', actions: ['retry'] },
  VERSION_MISMATCH: { severity: 'error', title: 'Ray Connect versions do not match', actions: [] },
  BAD_REQUEST: { severity: 'error', title: 'Invalid request', actions: [] },
  INTERNAL: { severity: 'error', title: 'Unexpected error', actions: ['retry'] },
};

/** Commands in an ACCESS_DENIED fix read as a list of kubectl lines: "Copy commands" rather than "Copy request". */
function looksLikeCommands(text: string): boolean {
  return /(^|;\s*)(kubectl|oc) /.test(text);
}

export function messageFor(error: ErrorInfo, context: MessageContext = {}): UserMessage {
  const t = context.t ?? defaultTranslate;
  const spec = SPECS[error.code] ?? SPECS.INTERNAL;
  const actions: MessageAction[] = [];
  const clusterArgs = context.clusterId ? [context.clusterId] : [];
  for (const a of spec.actions) {
    switch (a) {
      case 'signIn':
        actions.push({ kind: 'command', label: t('Sign in'), command: CommandIds.signIn, args: clusterArgs });
        break;
      case 'signInToken':
        actions.push({
          kind: 'command',
          label: t('Sign in with a token'),
          command: CommandIds.signInToken,
          args: clusterArgs,
        });
        break;
      case 'retry':
        if (context.retryable !== false) actions.push({ kind: 'retry', label: t('Retry') });
        break;
      case 'refresh':
        actions.push({ kind: 'command', label: t('Refresh'), command: CommandIds.refresh, args: [] });
        break;
      case 'chooseNamespaces':
        actions.push({
          kind: 'command',
          label: t('Choose namespaces'),
          command: CommandIds.selectNamespaces,
          args: clusterArgs,
        });
        break;
      case 'copyRequest':
      case 'copyCommands':
        if (error.fix) {
          const commands = a === 'copyCommands' || looksLikeCommands(error.fix);
          actions.push({
            kind: 'copy',
            label: commands ? t('Copy commands') : t('Copy request'),
            text: error.fix,
          });
        }
        break;
      case 'openCaSetting':
        actions.push({ kind: 'openSetting', label: t('Open setting'), setting: SettingIds.caFile });
        break;
      case 'openFile': {
        const file = error.details?.file;
        if (typeof file === 'string' && file)
          actions.push({ kind: 'openFile', label: t('Open file'), path: file });
        break;
      }
    }
  }
  if (spec.severity !== 'info') {
    actions.push({ kind: 'command', label: t('Show logs'), command: CommandIds.showLogs, args: [] });
  }
  const message: UserMessage = {
    code: error.code,
    severity: spec.severity,
    title: t(spec.title),
    cause: error.message,
    actions,
  };
  if (error.fix) message.fix = error.fix;
  return message;
}

/** One line for a toast: "Title: cause fix". */
export function formatMessage(message: UserMessage): string {
  const parts = [`${message.title}: ${message.cause}`];
  if (message.fix && !message.cause.includes(message.fix)) parts.push(message.fix);
  return parts.join(' ');
}

/** Turns anything thrown into an ErrorInfo (core errors already are; others become INTERNAL). */
export function toErrorInfo(error: unknown): ErrorInfo {
  if (typeof error === 'object' && error !== null) {
    const e = error as { code?: unknown; message?: unknown; fix?: unknown; details?: unknown };
    if (typeof e.code === 'string' && SPECS[e.code as ErrorCode] && typeof e.message === 'string') {
      const info: ErrorInfo = { code: e.code as ErrorCode, message: e.message };
      if (typeof e.fix === 'string') info.fix = e.fix;
      if (typeof e.details === 'object' && e.details !== null)
        info.details = e.details as ErrorInfo['details'];
      return info;
    }
    if (typeof e.message === 'string') return { code: 'INTERNAL', message: e.message };
  }
  return { code: 'INTERNAL', message: String(error) };
}

/**
 * Where sign-ins are kept and for how long, in words (one source for the agent's storage line in the panel,
 * `ray-connect whoami` / `login`, and VS Code): memory-only says until when, and how to keep them instead.
 */
export const StorageWords = {
  /** Opt-in to the named file store (read by the CLI and the agent). */
  fileStoreEnv: 'RAY_CONNECT_SECRET_STORE=file',
  /** Who holds memory-only sign-ins: the agent lives as long as the Jupyter server that started it. */
  agentHolder: 'this Jupyter server',
  commandHolder: 'this ray-connect command',
  memoryLabel: (holder: string) => `memory only: lost when ${holder} stops`,
  /** `why`: "No OS keychain here (no Secret Service)." `fileStore`: where the file store would be. */
  memoryReason: (why: string, holder: string, fileStore?: string) =>
    `${why} Secrets are kept in memory until ${holder} stops.` +
    (fileStore
      ? ` To keep sign-ins across restarts, start it with ${StorageWords.fileStoreEnv}: they are then kept in ${fileStore} (readable by your user only; in a workbench or hub pod, on your home volume).`
      : ''),
  /** `ray-connect` using the sign-ins of the Jupyter server's agent. */
  viaAgent: (pid: number, storage: { label: string; degradedReason?: string }) =>
    `This uses the sign-ins of the Ray Connect agent of your Jupyter server (pid ${pid}), shared with the JupyterLab panel. ${storage.degradedReason ?? `Secrets are kept in: ${storage.label}.`}`,
  /** `ray-connect login` with memory only and no agent: the sign-in ends with the command. */
  cliMemoryOnly: (fileStore: string, agentSkipped?: string) =>
    `${agentSkipped ? `No OS keychain here, and ${agentSkipped}` : 'No OS keychain and no running Ray Connect agent here'}: this sign-in lasts only while this command runs, so the next ray-connect command is signed out. To keep it, run export ${StorageWords.fileStoreEnv} (kept in ${fileStore}, readable by your user only), or sign in from the Ray Connect panel in JupyterLab: ray-connect in its terminals uses that sign-in.`,
} as const;

/** The page lost its Jupyter server (JupyterLab, Notebook): shown in the panel and the status bar at once. */
export function serverLostNotice(t: Translate = defaultTranslate): string {
  return t('Jupyter server not reachable — reconnecting…');
}

export interface ServerBackInput {
  /** The server that answers is another process (its agent is new): its state was reloaded. */
  newServer: boolean;
  /** Names of the Ray clusters whose connection was gone when the server came back. */
  lostConnections: string[];
  /** Names of the clusters whose sign-in was gone (kept in memory only by the old agent). */
  lostSignIns: string[];
  t?: Translate;
}

/**
 * What the panel says when its server answers again after a loss; undefined when there is nothing to say (the
 * same server came back with everything in place).
 */
export function serverBackNotice(input: ServerBackInput): string | undefined {
  const t = input.t ?? defaultTranslate;
  if (!input.newServer && !input.lostConnections.length && !input.lostSignIns.length) return undefined;
  const parts = [
    input.newServer
      ? t('The Jupyter server was unreachable or restarted; Ray Connect reloaded its state.')
      : t('The Jupyter server answers again; Ray Connect reloaded its state.'),
  ];
  if (input.lostConnections.length)
    parts.push(
      t(
        'The connections of the old server are closed: {0}. Connect again to use them.',
        input.lostConnections.join(', '),
      ),
    );
  if (input.lostSignIns.length)
    parts.push(
      t('Sign in again to {0}: its secrets were kept in memory only.', input.lostSignIns.join(', ')),
    );
  return parts.join(' ');
}

/** Which certificate a TLS_UNTRUSTED error is about (`details.caFor`): it picks the CA setting the fix names. */
export type CaTarget = 'api-server' | 'identity-provider' | 'ingress';

/** How a host names its CA settings (CLI: env vars; VS Code: settings). The host supplies them at the edge. */
export interface CaSettingNames {
  /** The CA file for the API server and the cluster ingress. */
  caFile: string;
  /** The CA file for the identity provider. */
  oidcCaFile: string;
}

/** The names in a host-neutral message (the core's default words; CF_SDK_CA_CERT_PATH is read by every host). */
export const NEUTRAL_CA_SETTINGS: CaSettingNames = {
  caFile: 'the CA file setting (or CF_SDK_CA_CERT_PATH)',
  oidcCaFile: 'the identity provider CA setting (or CF_SDK_CA_CERT_PATH)',
};

/** The CLI's CA settings. */
export const CLI_CA_SETTINGS: CaSettingNames = {
  caFile: 'RAY_CONNECT_CA_FILE',
  oidcCaFile: 'RAY_CONNECT_OIDC_CA_FILE',
};

const WORKBENCH_CA_BUNDLE = '/etc/pki/tls/custom-certs/ca-bundle.crt';

/** The fix of an untrusted certificate, naming the host's own setting. `subject`: the server (for the IdP). */
export function caFix(target: CaTarget, names: CaSettingNames, subject?: string): string {
  switch (target) {
    case 'identity-provider':
      return `Set ${names.oidcCaFile} to the CA file that signed ${subject ? `${subject}'s` : "the identity provider's"} certificate.`;
    case 'ingress':
      return `Set ${names.caFile} to the CA of the cluster ingress (on OpenShift AI workbenches ${WORKBENCH_CA_BUNDLE}), then connect again.`;
    default:
      return `Set ${names.caFile} or the kubeconfig cluster's certificate-authority to the CA that signed the API server's certificate; on OpenShift AI workbenches use ${WORKBENCH_CA_BUNDLE}.`;
  }
}
