import type { CommandRegistry } from '@lumino/commands';
import type { TranslationBundle } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';
import { commandInfo, messageFor, type CommandId, type TreeNode, type Translate } from '@ray-connect/shared';
import type { RayModel } from './model.js';

/** JupyterLab command args for a tree node: `{clusterId}` or `{clusterId, namespace, name}`. */
export function nodeArgs(node: TreeNode): Record<string, string> {
  if (node.ref) return { clusterId: node.ref.clusterId, namespace: node.ref.namespace, name: node.ref.name };
  if (node.clusterId) return { clusterId: node.clusterId };
  return {};
}

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className: string,
  text?: string,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** The left-sidebar panel "Ray": the shared view model rendered as a keyboard-navigable tree. */
export class RayPanel extends Widget {
  constructor(
    private readonly model: RayModel,
    private readonly commands: CommandRegistry,
    private readonly trans: TranslationBundle,
    private readonly t: Translate,
  ) {
    super();
    this.id = 'ray-connect-panel';
    this.addClass('rc-panel');
    this.title.caption = trans.__('Ray');
    model.changed.connect(() => this.render());
    this.render();
  }

  private button(id: CommandId, args: Record<string, string>, primary = false): HTMLButtonElement {
    const info = commandInfo(id);
    const b = el(
      'button',
      `rc-action jp-Button jp-mod-styled ${primary ? 'jp-mod-accept' : 'jp-mod-reject'} rc-action-${id.split('.')[1]}`,
      this.t(info.shortTitle),
    );
    b.type = 'button';
    b.title = this.t(info.title);
    b.setAttribute('aria-label', this.t(info.title));
    b.addEventListener('click', (e) => {
      e.stopPropagation();
      void this.commands.execute(id, args);
    });
    return b;
  }

  render(): void {
    const root = this.node;
    root.replaceChildren();
    const header = el('div', 'rc-header');
    header.appendChild(el('h2', 'rc-title', this.trans.__('Ray')));
    const refresh = this.button('rayConnect.refresh', {});
    header.appendChild(refresh);
    root.appendChild(header);

    const notice = this.model.notice;
    if (notice) {
      const box = el('div', `rc-notice rc-notice-${notice.kind}`);
      box.setAttribute('role', notice.kind === 'lost' ? 'status' : 'alert');
      box.appendChild(el('span', 'rc-notice-text', notice.message));
      if (notice.kind !== 'lost') {
        const close = el(
          'button',
          'rc-notice-dismiss jp-Button jp-mod-styled jp-mod-reject',
          this.trans.__('Dismiss'),
        );
        close.type = 'button';
        close.addEventListener('click', () => this.model.dismissNotice());
        box.appendChild(close);
      }
      root.appendChild(box);
    }

    if (this.model.fatal) {
      const msg = messageFor(this.model.fatal, { t: this.t });
      const box = el('div', 'rc-error');
      box.setAttribute('role', 'alert');
      box.appendChild(el('strong', '', msg.title));
      box.appendChild(el('p', '', msg.cause));
      if (msg.fix) box.appendChild(el('code', 'rc-fix', msg.fix));
      root.appendChild(box);
      return;
    }
    if (this.model.loading) {
      root.appendChild(el('p', 'rc-muted', this.trans.__('Loading...')));
      return;
    }
    const vm = this.model.viewModel();
    // Server lost: the last state stays on show, greyed, with no button or link (they would act on dead ports).
    const offline = this.model.serverLost;
    root.classList.toggle('rc-offline', offline);
    if (vm.empty && !offline) {
      const box = el('div', 'rc-empty');
      box.appendChild(el('p', '', vm.empty.message));
      for (const id of vm.empty.actions) box.appendChild(this.button(id, {}, true));
      root.appendChild(box);
    }
    const tree = el('ul', 'rc-tree');
    tree.setAttribute('role', 'tree');
    tree.setAttribute('aria-label', this.trans.__('Clusters and Ray clusters'));
    if (offline) tree.setAttribute('aria-disabled', 'true');
    for (const node of vm.nodes) tree.appendChild(this.renderNode(node, 1, offline));
    root.appendChild(tree);
    tree.addEventListener('keydown', (e) => this.onKey(e, tree));
    const first = tree.querySelector<HTMLElement>('.rc-row');
    if (first) first.tabIndex = 0;

    const storage = [...new Map(this.model.clusters.map((c) => [c.storage.label, c.storage])).values()];
    if (storage.length) {
      const foot = el('div', 'rc-storage');
      for (const s of storage) {
        const line = el(
          'p',
          s.kind === 'memory' ? 'rc-storage-line rc-warn' : 'rc-storage-line',
          this.trans.__('Secrets are kept in: %1', s.label),
        );
        foot.appendChild(line);
        // How long a sign-in lasts here and how to keep it (memory only in a pod): said, not hidden in a tooltip.
        if (s.degradedReason) foot.appendChild(el('p', 'rc-muted rc-storage-reason', s.degradedReason));
      }
      if (this.model.server?.inPod)
        foot.appendChild(
          el(
            'p',
            'rc-muted',
            this.trans.__('Running in a pod: "Use this pod\'s service account" is offered in Sign in.'),
          ),
        );
      root.appendChild(foot);
    }
  }

  private renderNode(node: TreeNode, level: number, offline = false): HTMLLIElement {
    const li = el('li', `rc-node rc-kind-${node.kind}`);
    li.setAttribute('role', 'treeitem');
    li.setAttribute('aria-level', String(level));
    li.setAttribute('aria-label', node.accessibilityLabel);
    li.dataset.id = node.id;
    if (node.state) li.dataset.state = node.state;
    if (node.collapsible !== 'none')
      li.setAttribute('aria-expanded', String(node.collapsible === 'expanded'));
    const row = el('div', 'rc-row');
    row.tabIndex = -1;
    row.title = node.tooltip;
    row.appendChild(el('span', `rc-icon rc-icon-${node.icon}`));
    row.setAttribute('aria-hidden', 'false');
    const text = el('span', 'rc-text');
    text.appendChild(el('span', 'rc-label', node.label));
    if (node.description) text.appendChild(el('span', 'rc-description', node.description));
    row.appendChild(text);
    const actions = el('span', 'rc-actions');
    const args = nodeArgs(node);
    if (!offline)
      for (const id of node.actions)
        actions.appendChild(this.button(id, args, id === 'rayConnect.connect' || id === 'rayConnect.signIn'));
    row.appendChild(actions);
    if (node.command && !offline) {
      const cmd = node.command;
      row.classList.add('rc-clickable');
      row.addEventListener('click', () => void this.commands.execute(cmd.command, args));
      row.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' && e.target === row) void this.commands.execute(cmd.command, args);
      });
    }
    li.appendChild(row);
    if (node.children.length && node.collapsible !== 'collapsed') {
      const group = el('ul', 'rc-group');
      group.setAttribute('role', 'group');
      for (const child of node.children) group.appendChild(this.renderNode(child, level + 1, offline));
      li.appendChild(group);
    } else if (node.children.length) {
      row.addEventListener(
        'click',
        () => {
          li.setAttribute('aria-expanded', 'true');
          const group = el('ul', 'rc-group');
          group.setAttribute('role', 'group');
          for (const child of node.children) group.appendChild(this.renderNode(child, level + 1, offline));
          li.appendChild(group);
        },
        { once: true },
      );
    }
    return li;
  }

  /** Arrow keys move between rows; Tab reaches the row's buttons. */
  private onKey(e: KeyboardEvent, tree: HTMLElement): void {
    if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
    const rows = [...tree.querySelectorAll<HTMLElement>('.rc-row')];
    const i = rows.indexOf(document.activeElement as HTMLElement);
    const next = rows[e.key === 'ArrowDown' ? Math.min(rows.length - 1, i + 1) : Math.max(0, i - 1)];
    if (next) {
      e.preventDefault();
      rows.forEach((r) => (r.tabIndex = -1));
      next.tabIndex = 0;
      next.focus();
    }
  }
}
