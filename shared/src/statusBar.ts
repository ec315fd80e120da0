import type { ClusterSummary, ConnectionSummary } from './api.js';
import { CommandIds, type CommandId } from './commands.js';
import { defaultTranslate, expiryState, formatDuration, type Translate } from './format.js';
import { serverLostNotice } from './messages.js';
import { clusterState } from './viewModel.js';

/**
 * The status-bar item (ux.md "Status bar"): `Ray: raycluster-rbac - 52m`. Warning under 5 minutes left, error when
 * expired or reconnecting. Click = quick actions.
 */
export type StatusSeverity = 'normal' | 'warning' | 'error';

export interface StatusBarModel {
  visible: boolean;
  text: string;
  tooltip: string;
  severity: StatusSeverity;
  /** Codicon id for the leading icon. */
  icon: string;
  command: CommandId;
}

export interface StatusBarInput {
  clusters: ClusterSummary[];
  connections: ConnectionSummary[];
  now: number;
  /** The page's Jupyter server is not reachable: what is shown is stale, nothing can be done. */
  serverLost?: boolean;
  t?: Translate;
}

/** The expiry that matters for a connection: the Ray token's, else the sign-in's of its cluster. */
function expiryOf(c: ConnectionSummary, clusters: ClusterSummary[]): number | undefined {
  return c.tokenExpiresAt ?? clusters.find((k) => k.id === c.clusterId)?.signIn.expiresAt;
}

export function buildStatusBar(input: StatusBarInput): StatusBarModel {
  const t = input.t ?? defaultTranslate;
  if (input.serverLost)
    return {
      visible: true,
      text: t('Ray: Jupyter server not reachable'),
      tooltip: serverLostNotice(t),
      severity: 'error',
      icon: 'debug-disconnect',
      command: CommandIds.refresh,
    };
  const live = input.connections.filter((c) => c.state !== 'disconnected');
  const signedIn = input.clusters.filter((c) => {
    const s = clusterState(c, input.now);
    return s === 'signed-in' || s === 'expiring-soon';
  });
  const expired = input.clusters.filter((c) => clusterState(c, input.now) === 'expired');

  if (live.length === 0) {
    if (signedIn.length === 0 && expired.length === 0) {
      return {
        visible: true,
        text: t('Ray: signed out'),
        tooltip: t('Ray Connect: sign in to a cluster'),
        severity: 'normal',
        icon: 'sign-in',
        command: CommandIds.signIn,
      };
    }
    if (signedIn.length === 0) {
      const names = expired.map((c) => c.name).join(', ');
      return {
        visible: true,
        text: t('Ray: sign-in expired'),
        tooltip: t('Your sign-in to {0} expired. Click to sign in again.', names),
        severity: 'error',
        icon: 'warning',
        command: CommandIds.signIn,
      };
    }
    return {
      visible: true,
      text: t('Ray: not connected'),
      tooltip: t(
        'Signed in to {0}. Click to connect to a Ray cluster.',
        signedIn.map((c) => c.name).join(', '),
      ),
      severity: 'normal',
      icon: 'plug',
      command: CommandIds.quickActions,
    };
  }

  // Soonest expiry across connections decides the colour and the time shown.
  let soonest: number | undefined;
  for (const c of live) {
    const e = expiryOf(c, input.clusters);
    if (e !== undefined && (soonest === undefined || e < soonest)) soonest = e;
  }
  const reconnecting = live.some((c) => c.state === 'reconnecting' || c.state === 'failed');
  const exp = expiryState(soonest, input.now);
  const severity: StatusSeverity =
    reconnecting || exp === 'expired' ? 'error' : exp === 'expiring-soon' ? 'warning' : 'normal';
  const first = live[0]!;
  const name = live.length === 1 ? first.name : t('{0} connected', live.length);
  let suffix = '';
  if (exp === 'expired') suffix = t('expired');
  else if (live.length === 1 && first.state === 'reconnecting') suffix = t('reconnecting');
  else if (live.length === 1 && first.state === 'connecting') suffix = t('connecting');
  else if (soonest !== undefined) suffix = formatDuration(soonest - input.now);
  const text = suffix ? t('Ray: {0} - {1}', name, suffix) : t('Ray: {0}', name);
  const tooltip = live
    .map((c) => {
      const e = expiryOf(c, input.clusters);
      const left =
        e === undefined
          ? ''
          : e <= input.now
            ? t(', token expired')
            : t(', token {0} left', formatDuration(e - input.now));
      return t('{0} ({1}): {2}{3}', c.name, c.namespace, c.state, left);
    })
    .concat([t('Click for quick actions')])
    .join('\n');
  const icon =
    severity === 'error'
      ? 'warning'
      : first.state === 'connecting' || first.state === 'reconnecting'
        ? 'sync~spin'
        : 'plug';
  return { visible: true, text, tooltip, severity, icon, command: CommandIds.quickActions };
}

export interface QuickAction {
  label: string;
  command: CommandId;
  args: unknown[];
}

/** The actions offered when the status bar is clicked, most useful first. */
export function quickActions(input: StatusBarInput): QuickAction[] {
  const t = input.t ?? defaultTranslate;
  const live = input.connections.filter((c) => c.state !== 'disconnected');
  const actions: QuickAction[] = [];
  for (const c of live) {
    const ref = { clusterId: c.clusterId, namespace: c.namespace, name: c.name };
    actions.push({
      label: t('Open dashboard of {0}', c.name),
      command: CommandIds.openDashboard,
      args: [ref],
    });
    actions.push({ label: t('Copy env of {0}', c.name), command: CommandIds.copyEnv, args: [ref] });
    actions.push({ label: t('Disconnect {0}', c.name), command: CommandIds.disconnect, args: [ref] });
  }
  actions.push({
    label: live.length ? t('Connect another Ray cluster...') : t('Connect to a Ray cluster...'),
    command: CommandIds.connect,
    args: [],
  });
  for (const c of input.clusters) {
    const s = clusterState(c, input.now);
    if (s === 'signed-in' || s === 'expiring-soon')
      actions.push({ label: t('Sign out of {0}', c.name), command: CommandIds.signOut, args: [c.id] });
    else actions.push({ label: t('Sign in to {0}...', c.name), command: CommandIds.signIn, args: [c.id] });
  }
  actions.push({ label: t('Show logs'), command: CommandIds.showLogs, args: [] });
  return actions;
}
