import { describe, expect, it } from 'vitest';
import { COMMANDS, CommandIds, SIGN_IN_CHOICES, commandInfo, isCommandId } from './commands.js';

describe('commands', () => {
  it('has one entry per id, all in category Ray', () => {
    const ids = Object.values(CommandIds);
    expect(new Set(COMMANDS.map((c) => c.id))).toEqual(new Set(ids));
    expect(COMMANDS.length).toBe(ids.length);
    for (const c of COMMANDS) {
      expect(c.category).toBe('Ray');
      expect(c.id).toMatch(/^rayConnect\.[a-zA-Z]+$/);
      expect(c.title.length).toBeGreaterThan(2);
    }
  });
  it('includes the ids both hosts rely on', () => {
    for (const id of [
      'rayConnect.signIn',
      'rayConnect.signInDevice',
      'rayConnect.signInBrowser',
      'rayConnect.signInToken',
      'rayConnect.useKubeconfig',
      'rayConnect.signOut',
      'rayConnect.refresh',
      'rayConnect.connect',
      'rayConnect.disconnect',
      'rayConnect.openDashboard',
      'rayConnect.copyToken',
      'rayConnect.copyEnv',
      'rayConnect.injectKernel',
      'rayConnect.selectNamespaces',
      'rayConnect.showLogs',
    ]) {
      expect(isCommandId(id)).toBe(true);
      expect(commandInfo(id as never).id).toBe(id);
    }
    expect(isCommandId('rayConnect.nope')).toBe(false);
  });
  it('offers sign-in methods in the order of the UX sketch', () => {
    expect(SIGN_IN_CHOICES.map((c) => c.method)).toEqual([
      'kubeconfig',
      'device',
      'browser',
      'token',
      'in-cluster',
    ]);
  });
});
