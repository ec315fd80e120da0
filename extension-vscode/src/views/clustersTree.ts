import * as vscode from 'vscode';
import { buildViewModel, type TreeNode, type ViewModel } from '@ray-connect/shared';
import type { Store } from '../state';
import { themeIcon } from './icons';

const COLLAPSE: Record<TreeNode['collapsible'], vscode.TreeItemCollapsibleState> = {
  none: vscode.TreeItemCollapsibleState.None,
  collapsed: vscode.TreeItemCollapsibleState.Collapsed,
  expanded: vscode.TreeItemCollapsibleState.Expanded,
};

/** The "Clusters" tree: VS Code TreeItems from the shared view model. Re-renders on store changes and each minute (expiry text). */
export class ClustersTreeProvider implements vscode.TreeDataProvider<TreeNode>, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<TreeNode | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;
  private model: ViewModel = { nodes: [] };
  private readonly parents = new Map<string, TreeNode | undefined>();
  private readonly timer: ReturnType<typeof setInterval>;
  private readonly sub: { dispose(): void };

  constructor(
    private readonly store: Store,
    private readonly injections: () => Record<string, { terminals: number; kernels: number }>,
  ) {
    this.sub = store.onDidChange(() => this.rebuild());
    this.timer = setInterval(() => this.rebuild(), 30_000);
    this.rebuild();
  }

  dispose(): void {
    clearInterval(this.timer);
    this.sub.dispose();
    this.emitter.dispose();
  }

  /** The current model (tests and the e2e suite read it through the extension's exports). */
  get viewModel(): ViewModel {
    return this.model;
  }

  rebuild(): void {
    this.model = this.store.loaded
      ? buildViewModel({
          clusters: this.store.clusters,
          rayClusters: this.store.rayClusters,
          connections: this.store.connections,
          injections: this.injections(),
          now: Date.now(),
          t: vscode.l10n.t,
        })
      : { nodes: [] };
    this.parents.clear();
    const walk = (nodes: TreeNode[], parent: TreeNode | undefined) => {
      for (const n of nodes) {
        this.parents.set(n.id, parent);
        walk(n.children, n);
      }
    };
    walk(this.model.nodes, undefined);
    this.emitter.fire(undefined);
  }

  getChildren(element?: TreeNode): TreeNode[] {
    // An empty list shows the "no clusters" welcome content (package.json viewsWelcome).
    return element ? element.children : this.model.nodes;
  }

  getParent(element: TreeNode): TreeNode | undefined {
    return this.parents.get(element.id);
  }

  getTreeItem(node: TreeNode): vscode.TreeItem {
    const item = new vscode.TreeItem(node.label, COLLAPSE[node.collapsible]);
    item.id = node.id;
    item.description = node.description;
    item.tooltip = node.tooltip;
    item.iconPath = themeIcon(node.icon);
    item.contextValue = node.contextValue;
    item.accessibilityInformation = { label: node.accessibilityLabel };
    if (node.command)
      item.command = { command: node.command.command, title: node.label, arguments: node.command.args };
    return item;
  }
}
