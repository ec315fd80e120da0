import * as vscode from 'vscode';
import { formatMessage, messageFor, toErrorInfo, type MessageAction } from '@ray-connect/shared';
import type { Deps } from '../commands/deps';

export interface ShowErrorOptions {
  clusterId?: string;
  retry?: () => Promise<unknown>;
  /** What was being done, for the log line ("connecting to raycluster-rbac"). */
  attempting?: string;
}

/**
 * Shows an error the user can act on: title, one line of cause, the fix, and buttons from the shared messages
 * (Sign in / Retry / Copy request / Open setting / Open file), always with Show Logs. Logs it (redacted).
 */
export async function showError(deps: Deps, error: unknown, options: ShowErrorOptions = {}): Promise<void> {
  const info = toErrorInfo(error);
  deps.log.error(
    `${options.attempting ?? 'operation'} failed: ${info.code}: ${info.message}`,
    info.fix ? { fix: info.fix } : undefined,
  );
  deps.events.emit({ type: 'error', code: info.code, message: deps.redactor.redact(info.message) });
  const context: Parameters<typeof messageFor>[1] = {
    retryable: options.retry !== undefined,
    t: vscode.l10n.t,
  };
  if (options.clusterId) context.clusterId = options.clusterId;
  const message = messageFor(info, context);
  const text = deps.redactor.redact(formatMessage(message));
  const labels = message.actions.map((a) => a.label);
  const show =
    message.severity === 'error'
      ? vscode.window.showErrorMessage
      : message.severity === 'warning'
        ? vscode.window.showWarningMessage
        : vscode.window.showInformationMessage;
  const picked = await show(text, ...labels);
  const action = message.actions.find((a) => a.label === picked);
  if (action) await runAction(deps, action, options);
}

async function runAction(deps: Deps, action: MessageAction, options: ShowErrorOptions): Promise<void> {
  switch (action.kind) {
    case 'command':
      await vscode.commands.executeCommand(action.command, ...action.args);
      break;
    case 'retry':
      if (options.retry) await options.retry().catch((e: unknown) => showError(deps, e, options));
      break;
    case 'copy':
      await vscode.env.clipboard.writeText(action.text);
      void vscode.window.showInformationMessage(
        vscode.l10n.t('Copied. Send it to your cluster administrator.'),
      );
      break;
    case 'openSetting':
      await vscode.commands.executeCommand('workbench.action.openSettings', action.setting);
      break;
    case 'openFile':
      await vscode.window.showTextDocument(vscode.Uri.file(action.path));
      break;
  }
}
