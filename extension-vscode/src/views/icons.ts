import * as vscode from 'vscode';
import type { IconId } from '@ray-connect/shared';

/** Semantic icon ids from the shared view model -> codicons with theme colours (never hard-coded colours). */
const ICONS: Record<IconId, [string, string?]> = {
  'cluster-signed-in': ['vm-active', 'testing.iconPassed'],
  'cluster-expiring': ['vm-active', 'list.warningForeground'],
  'cluster-expired': ['vm-outline', 'list.errorForeground'],
  'cluster-signed-out': ['vm-outline'],
  'cluster-error': ['vm-outline', 'list.errorForeground'],
  namespace: ['folder'],
  'ray-ready': ['circle-large-outline'],
  'ray-provisioning': ['loading~spin'],
  'ray-failed': ['error', 'list.errorForeground'],
  'ray-connected': ['pass-filled', 'testing.iconPassed'],
  'ray-connecting': ['sync~spin'],
  'ray-reconnecting': ['sync~spin', 'list.warningForeground'],
  'ray-access-denied': ['lock', 'list.errorForeground'],
  dashboard: ['dashboard'],
  'ray-client': ['remote'],
  env: ['terminal'],
  loading: ['loading~spin'],
  info: ['info'],
  warning: ['warning', 'list.warningForeground'],
  error: ['error', 'list.errorForeground'],
};

export function themeIcon(id: IconId): vscode.ThemeIcon {
  const [name, color] = ICONS[id];
  return new vscode.ThemeIcon(name, color ? new vscode.ThemeColor(color) : undefined);
}
