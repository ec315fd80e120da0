// The public surface of @ray-connect/shared. Named exports only, grouped by topic.

// errors
export { ErrorCodes, isErrorCode } from './errors.js';
export type { ErrorCode, ErrorInfo } from './errors.js';

// the API both hosts use
export type {
  RayConnectApi,
  VersionInfo,
  SignInMethod,
  SecretStorageInfo,
  ClusterSummary,
  SignInState,
  AddClusterInput,
  SignInInput,
  SignInProgress,
  BrowserCallbackResult,
  SignOutResult,
  RayClusterRef,
  RayAuthMode,
  RayTokenSource,
  RayClusterSummary,
  RayClusterList,
  AccessCheck,
  ConnectOptions,
  ConnectPathSetting,
  ConnectionPath,
  ConnectionSummary,
  DisconnectResult,
  SessionEnv,
  RayConnectEvent,
} from './api.js';

// agent protocol (ray-connect serve)
export {
  PROTOCOL_VERSION,
  AGENT_SECRET_ENV,
  MAX_BODY_BYTES,
  AGENT_METHODS,
  httpStatusFor,
  RAY_ENV,
  RAY_ENV_KEYS,
} from './protocol.js';
export { agentProtocolJson } from './protocolJson.js';
export type { AgentProtocolJson } from './protocolJson.js';
export type { AgentReady, AgentMethod, CallRequest, CallResponse } from './protocol.js';

// words and times
export { defaultTranslate, formatDuration, formatExpiry, expiryState, EXPIRING_SOON_MS } from './format.js';
export type { Translate, ExpiryState } from './format.js';

// commands and settings
export {
  COMMAND_CATEGORY,
  CommandIds,
  COMMANDS,
  SIGN_IN_CHOICES,
  commandInfo,
  isCommandId,
} from './commands.js';
export type { CommandId, CommandKey, CommandInfo, CommandTarget, SignInChoice } from './commands.js';
export { SettingIds } from './settings.js';
export type { SettingId } from './settings.js';

// user messages (error code -> title, cause, fix, buttons)
export {
  messageFor,
  formatMessage,
  toErrorInfo,
  StorageWords,
  serverLostNotice,
  serverBackNotice,
  caFix,
  CLI_CA_SETTINGS,
  NEUTRAL_CA_SETTINGS,
} from './messages.js';
export type {
  UserMessage,
  MessageAction,
  MessageSeverity,
  MessageContext,
  ServerBackInput,
  CaTarget,
  CaSettingNames,
} from './messages.js';

// view model (the tree) and status bar
export {
  buildViewModel,
  clusterState,
  rayNodeState,
  refKey,
  sameRef,
  authModeLabel,
  connectionPathLabel,
  tokenSourceLabel,
  injectionText,
  flattenNodes,
} from './viewModel.js';
export type {
  TreeNode,
  NodeKind,
  IconId,
  ClusterState,
  RayNodeState,
  NodeCommand,
  RayClustersEntry,
  InjectionCounts,
  ViewModelInput,
  ViewModel,
  EmptyState,
} from './viewModel.js';
export { buildStatusBar, quickActions } from './statusBar.js';
export type { StatusBarModel, StatusBarInput, StatusSeverity, QuickAction } from './statusBar.js';

// where browser sign-in comes back (host pages decide)
export { isLoopbackHost, planBrowserRedirect } from './browserRedirect.js';
export type { BrowserRedirectPlan, BrowserRedirectSetting } from './browserRedirect.js';
