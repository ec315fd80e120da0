import type { CommandRegistry } from '@lumino/commands';
import { Widget } from '@lumino/widgets';
import type { RayModel } from './model.js';

/** `Ray: raycluster-rbac - 52m`; click = quick actions. Severity colours come from the theme. */
export class RayStatusItem extends Widget {
  private timer: number;

  constructor(
    private readonly model: RayModel,
    commands: CommandRegistry,
  ) {
    super({ node: document.createElement('button') });
    this.addClass('rc-status');
    this.addClass('jp-StatusBar-TextItem');
    this.node.addEventListener('click', () => {
      const m = this.model.statusBar();
      void commands.execute(m.command, {});
    });
    model.changed.connect(() => this.update());
    this.timer = window.setInterval(() => this.update(), 30_000);
    this.update();
  }

  protected override onUpdateRequest(): void {
    const m = this.model.statusBar();
    this.node.textContent = m.text;
    this.node.title = m.tooltip;
    this.node.setAttribute('aria-label', m.tooltip);
    this.node.dataset.severity = m.severity;
  }

  override dispose(): void {
    window.clearInterval(this.timer);
    super.dispose();
  }
}
