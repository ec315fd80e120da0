import * as vscode from 'vscode';
import { CommandIds, type CommandId } from '@ray-connect/shared';
import type { Deps, Handler } from './deps';
import { showError } from '../ui/errors';
import { signIn } from './signIn';
import { useKubeconfig } from './useKubeconfig';
import { signInDevice } from './signInDevice';
import { signInBrowser } from './signInBrowser';
import { signInToken } from './signInToken';
import { signOut } from './signOut';
import { refresh } from './refresh';
import { connect } from './connect';
import { disconnect } from './disconnect';
import { openDashboard } from './openDashboard';
import { copyToken } from './copyToken';
import { copyEnv } from './copyEnv';
import { injectKernel } from './injectKernel';
import { newTerminal } from './newTerminal';
import { selectNamespaces } from './selectNamespaces';
import { showLogs } from './showLogs';
import { quickActions } from './quickActions';

/** One handler per contributed command (package.json `contributes.commands` lists the same ids). */
export const HANDLERS: Record<CommandId, Handler> = {
  [CommandIds.signIn]: signIn,
  [CommandIds.signInKubeconfig]: useKubeconfig,
  [CommandIds.signInDevice]: signInDevice,
  [CommandIds.signInBrowser]: signInBrowser,
  [CommandIds.signInToken]: signInToken,
  [CommandIds.signOut]: signOut,
  [CommandIds.refresh]: refresh,
  [CommandIds.connect]: connect,
  [CommandIds.disconnect]: disconnect,
  [CommandIds.openDashboard]: openDashboard,
  [CommandIds.copyToken]: copyToken,
  [CommandIds.copyEnv]: copyEnv,
  [CommandIds.injectKernel]: injectKernel,
  [CommandIds.newTerminal]: newTerminal,
  [CommandIds.selectNamespaces]: selectNamespaces,
  [CommandIds.showLogs]: showLogs,
  [CommandIds.quickActions]: quickActions,
};

export function registerCommands(deps: Deps): vscode.Disposable[] {
  return Object.entries(HANDLERS).map(([id, handler]) =>
    vscode.commands.registerCommand(id, async (...args: unknown[]) => {
      try {
        return await handler(deps, ...args);
      } catch (e) {
        // Handlers show their own errors; this is the net for anything unexpected.
        await showError(deps, e, { attempting: id });
        return undefined;
      }
    }),
  );
}
