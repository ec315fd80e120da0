import { describe, expect, it } from 'vitest';
import { buildStatusBar, quickActions } from './statusBar.js';
import { MIN, NOW, cluster, connection } from './testFixtures.js';

describe('buildStatusBar', () => {
  it('one connection: name and time left', () => {
    const m = buildStatusBar({
      clusters: [cluster()],
      connections: [connection('raycluster-rbac', { tokenExpiresAt: NOW + 52 * MIN })],
      now: NOW,
    });
    expect(m).toMatchObject({
      text: 'Ray: raycluster-rbac - 52m',
      severity: 'normal',
      command: 'rayConnect.quickActions',
    });
  });
  it('falls back to the sign-in expiry; warning under 5 minutes; error when expired', () => {
    const soon = buildStatusBar({
      clusters: [cluster({ signIn: { status: 'signed-in', expiresAt: NOW + 3 * MIN } })],
      connections: [connection('r')],
      now: NOW,
    });
    expect(soon).toMatchObject({ text: 'Ray: r - 3m', severity: 'warning' });
    const gone = buildStatusBar({
      clusters: [cluster()],
      connections: [connection('r', { tokenExpiresAt: NOW - MIN })],
      now: NOW,
    });
    expect(gone).toMatchObject({ text: 'Ray: r - expired', severity: 'error' });
  });
  it('a lost Jupyter server wins over stale connections: an error, click = retry', () => {
    const m = buildStatusBar({
      clusters: [cluster()],
      connections: [connection('raycluster-rbac', { tokenExpiresAt: NOW + 52 * MIN })],
      now: NOW,
      serverLost: true,
    });
    expect(m).toMatchObject({
      text: 'Ray: Jupyter server not reachable',
      tooltip: 'Jupyter server not reachable — reconnecting…',
      severity: 'error',
      command: 'rayConnect.refresh',
    });
    expect(m.text).not.toContain('raycluster-rbac');
  });
  it('reconnecting is an error colour', () => {
    const m = buildStatusBar({
      clusters: [cluster()],
      connections: [connection('r', { state: 'reconnecting' })],
      now: NOW,
    });
    expect(m.severity).toBe('error');
    expect(m.text).toBe('Ray: r - reconnecting');
  });
  it('several connections', () => {
    const m = buildStatusBar({
      clusters: [cluster()],
      connections: [
        connection('a', { tokenExpiresAt: NOW + 10 * MIN }),
        connection('b', { tokenExpiresAt: NOW + 20 * MIN }),
      ],
      now: NOW,
    });
    expect(m.text).toBe('Ray: 2 connected - 10m');
    expect(m.tooltip).toContain('a (team-a): ready, token 10m left');
  });
  it('no connections: signed out / not connected / expired', () => {
    expect(
      buildStatusBar({
        clusters: [cluster({ signIn: { status: 'signed-out' } })],
        connections: [],
        now: NOW,
      }),
    ).toMatchObject({ text: 'Ray: signed out', command: 'rayConnect.signIn' });
    expect(buildStatusBar({ clusters: [cluster()], connections: [], now: NOW }).text).toBe(
      'Ray: not connected',
    );
    expect(
      buildStatusBar({ clusters: [cluster({ signIn: { status: 'expired' } })], connections: [], now: NOW }),
    ).toMatchObject({ text: 'Ray: sign-in expired', severity: 'error' });
  });
});

describe('quickActions', () => {
  it('lists per-connection actions, connect, sign in/out, logs', () => {
    const actions = quickActions({
      clusters: [cluster(), cluster({ id: 'x', name: 'staging', signIn: { status: 'signed-out' } })],
      connections: [connection('r')],
      now: NOW,
    });
    expect(actions.map((a) => a.label)).toEqual([
      'Open dashboard of r',
      'Copy env of r',
      'Disconnect r',
      'Connect another Ray cluster...',
      'Sign out of prod-east',
      'Sign in to staging...',
      'Show logs',
    ]);
  });
});
