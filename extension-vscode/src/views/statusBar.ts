import * as vscode from 'vscode';
import { buildStatusBar } from '@ray-connect/shared';
import type { Store } from '../state';

/** The status-bar item: connected Ray cluster and time left; warning/error colours from the theme; click = quick actions. */
export class RayStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem(
    'rayConnect.status',
    vscode.StatusBarAlignment.Left,
    10,
  );
  private readonly timer: ReturnType<typeof setInterval>;
  private readonly sub: { dispose(): void };

  constructor(private readonly store: Store) {
    this.item.name = vscode.l10n.t('Ray Connect');
    this.sub = store.onDidChange(() => this.update());
    this.timer = setInterval(() => this.update(), 30_000);
    this.update();
  }

  update(): void {
    if (!this.store.loaded) {
      this.item.hide();
      return;
    }
    const m = buildStatusBar({
      clusters: this.store.clusters,
      connections: this.store.connections,
      now: Date.now(),
      t: vscode.l10n.t,
    });
    this.item.text = `$(${m.icon}) ${m.text}`;
    this.item.tooltip = m.tooltip;
    this.item.command = m.command;
    this.item.accessibilityInformation = { label: m.text };
    this.item.backgroundColor =
      m.severity === 'error'
        ? new vscode.ThemeColor('statusBarItem.errorBackground')
        : m.severity === 'warning'
          ? new vscode.ThemeColor('statusBarItem.warningBackground')
          : undefined;
    if (m.visible) this.item.show();
    else this.item.hide();
  }

  get text(): string {
    return this.item.text;
  }

  dispose(): void {
    clearInterval(this.timer);
    this.sub.dispose();
    this.item.dispose();
  }
}
