import { describe, expect, it } from 'vitest';
import { ErrorCodes } from './errors.js';
import {
  caFix,
  CLI_CA_SETTINGS,
  formatMessage,
  messageFor,
  NEUTRAL_CA_SETTINGS,
  serverBackNotice,
  serverLostNotice,
  StorageWords,
  toErrorInfo,
} from './messages.js';

describe('messageFor', () => {
  it('covers every error code, and every error has Show logs', () => {
    for (const code of ErrorCodes) {
      const m = messageFor({ code, message: 'cause' });
      expect(m.title.length).toBeGreaterThan(3);
      expect(m.cause).toBe('cause');
      if (m.severity !== 'info')
        expect(m.actions.some((a) => a.kind === 'command' && a.command === 'rayConnect.showLogs')).toBe(true);
    }
  });
  it('TOKEN_EXPIRED offers Sign in for that cluster (and never a browser by itself)', () => {
    const m = messageFor(
      { code: 'TOKEN_EXPIRED', message: 'Your sign-in to prod-east expired.' },
      { clusterId: 'context:prod-east' },
    );
    expect(m.actions[0]).toEqual({
      kind: 'command',
      label: 'Sign in',
      command: 'rayConnect.signIn',
      args: ['context:prod-east'],
    });
  });
  it('ACCESS_DENIED copies the exact request', () => {
    const m = messageFor({
      code: 'ACCESS_DENIED',
      message: "You can't read Secret x in team-a.",
      fix: 'Ask for: get secrets/x',
    });
    expect(m.actions[0]).toEqual({ kind: 'copy', label: 'Copy request', text: 'Ask for: get secrets/x' });
    const m2 = messageFor({
      code: 'ACCESS_DENIED',
      message: 'You lack ray:write.',
      fix: 'kubectl create role r --verb=ray:write; kubectl create rolebinding b',
    });
    expect(m2.actions[0]?.label).toBe('Copy commands');
  });
  it('TLS_UNTRUSTED opens the CA setting; KUBECONFIG_INVALID opens the file', () => {
    expect(messageFor({ code: 'TLS_UNTRUSTED', message: 'x' }).actions[0]).toEqual({
      kind: 'openSetting',
      label: 'Open setting',
      setting: 'rayConnect.caFile',
    });
    expect(
      messageFor({ code: 'KUBECONFIG_INVALID', message: 'x', details: { file: '/k' } }).actions[0],
    ).toEqual({ kind: 'openFile', label: 'Open file', path: '/k' });
  });
  it('drops Retry when the host cannot retry', () => {
    expect(messageFor({ code: 'CLUSTER_UNREACHABLE', message: 'x' }).actions.map((a) => a.kind)).toEqual([
      'retry',
      'command',
    ]);
    expect(
      messageFor({ code: 'CLUSTER_UNREACHABLE', message: 'x' }, { retryable: false }).actions.map(
        (a) => a.kind,
      ),
    ).toEqual(['command']);
  });
  it('PORT_IN_USE is information', () => {
    expect(messageFor({ code: 'PORT_IN_USE', message: 'Port 8265 is taken' }).severity).toBe('info');
  });
  it('translates titles and labels', () => {
    const m = messageFor({ code: 'SIGNED_OUT', message: 'x' }, { t: (s) => s.toUpperCase() });
    expect(m.title).toBe('NOT SIGNED IN');
    expect(m.actions[0]?.label).toBe('SIGN IN');
  });
});

describe('formatMessage / toErrorInfo', () => {
  it('makes one line', () => {
    expect(
      formatMessage(
        messageFor({
          code: 'CLUSTER_UNREACHABLE',
          message: "Can't reach https://api.x:6443.",
          fix: 'Check the VPN.',
        }),
      ),
    ).toBe("Can't reach the cluster: Can't reach https://api.x:6443. Check the VPN.");
  });
  it('keeps core error codes and maps the rest to INTERNAL', () => {
    expect(toErrorInfo({ code: 'TOKEN_EXPIRED', message: 'm', fix: 'f' })).toEqual({
      code: 'TOKEN_EXPIRED',
      message: 'm',
      fix: 'f',
    });
    expect(toErrorInfo(new Error('boom'))).toEqual({ code: 'INTERNAL', message: 'boom' });
    expect(toErrorInfo({ code: 'NOPE', message: 'm' })).toEqual({ code: 'INTERNAL', message: 'm' });
    expect(toErrorInfo('s')).toEqual({ code: 'INTERNAL', message: 's' });
  });
});

describe('StorageWords', () => {
  it('memory only says until when and how to keep sign-ins (the named file store and where it is)', () => {
    const reason = StorageWords.memoryReason(
      'No OS keychain here (no Secret Service).',
      StorageWords.agentHolder,
      '~/.config/ray-connect/secrets.json',
    );
    expect(reason).toContain('kept in memory until this Jupyter server stops');
    expect(reason).toContain('RAY_CONNECT_SECRET_STORE=file');
    expect(reason).toContain('~/.config/ray-connect/secrets.json');
    expect(StorageWords.memoryReason('Locked.', 'VS Code')).toBe(
      'Locked. Secrets are kept in memory until VS Code stops.',
    );
    expect(StorageWords.memoryLabel(StorageWords.agentHolder)).toBe(
      'memory only: lost when this Jupyter server stops',
    );
  });
  it('the CLI with memory only: the sign-in ends with the command, and why the agent was not used', () => {
    expect(StorageWords.cliMemoryOnly('/f')).toMatch(
      /^No OS keychain and no running Ray Connect agent here: /,
    );
    expect(StorageWords.cliMemoryOnly('/f', 'the agent was not used: other KUBECONFIG')).toMatch(
      /^No OS keychain here, and the agent was not used: other KUBECONFIG: this sign-in lasts only/,
    );
    expect(StorageWords.viaAgent(7, { label: 'OS keychain' })).toMatch(
      /\(pid 7\).*Secrets are kept in: OS keychain\.$/,
    );
  });
});

describe('server lost / back', () => {
  it('says the server is gone and that it reconnects', () => {
    expect(serverLostNotice()).toBe('Jupyter server not reachable — reconnecting…');
    expect(serverLostNotice((s) => s.toUpperCase())).toBe('JUPYTER SERVER NOT REACHABLE — RECONNECTING…');
  });
  it('names what a new server lost; says nothing when the same server is back intact', () => {
    expect(serverBackNotice({ newServer: false, lostConnections: [], lostSignIns: [] })).toBeUndefined();
    expect(serverBackNotice({ newServer: true, lostConnections: [], lostSignIns: [] })).toBe(
      'The Jupyter server was unreachable or restarted; Ray Connect reloaded its state.',
    );
    expect(
      serverBackNotice({
        newServer: true,
        lostConnections: ['raycluster-token', 'r2'],
        lostSignIns: ['sandbox'],
      }),
    ).toBe(
      'The Jupyter server was unreachable or restarted; Ray Connect reloaded its state. ' +
        'The connections of the old server are closed: raycluster-token, r2. Connect again to use them. ' +
        'Sign in again to sandbox: its secrets were kept in memory only.',
    );
    expect(serverBackNotice({ newServer: false, lostConnections: ['r'], lostSignIns: [] })).toMatch(
      /^The Jupyter server answers again; .* closed: r\./,
    );
  });
});

describe('caFix', () => {
  it("names the setting the host supplies, never another host's", () => {
    const cli = caFix('identity-provider', CLI_CA_SETTINGS, 'https://idp');
    expect(cli).toBe("Set RAY_CONNECT_OIDC_CA_FILE to the CA file that signed https://idp's certificate.");
    expect(caFix('api-server', CLI_CA_SETTINGS)).toMatch(/^Set RAY_CONNECT_CA_FILE or the kubeconfig/);
    expect(caFix('ingress', NEUTRAL_CA_SETTINGS)).toMatch(
      /^Set the CA file setting \(or CF_SDK_CA_CERT_PATH\) to the CA of the cluster ingress/,
    );
    for (const target of ['api-server', 'identity-provider', 'ingress'] as const)
      expect(caFix(target, CLI_CA_SETTINGS)).not.toMatch(/rayConnect\.caFile|CF_SDK_CA_CERT_PATH/);
  });
});
