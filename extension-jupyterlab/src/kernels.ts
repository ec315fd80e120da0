import type { ISessionContext } from '@jupyterlab/apputils';
import type { Kernel } from '@jupyterlab/services';
import { refKey } from '@ray-connect/shared';
import { requestAPI, type EnvState } from './request.js';

/**
 * Running Python kernels get the Ray env through a silent execute (new kernels inherit it from the server's
 * environment; restarts of session kernels get it from the server's `update_env`). Re-applied when a kernel
 * restarts (statusChanged -> idle after restarting) or changes, and whenever the server's env changes
 * (connect, token rotation, disconnect, sign-out).
 */
export class KernelEnvInjector {
  enabled = true;
  private readonly contexts = new Set<ISessionContext>();
  private readonly applied = new Map<string, number | null>();
  private env: EnvState | undefined;

  constructor(private readonly onCount: (refKeyValue: string | null, kernels: number) => void) {}

  track(context: ISessionContext): void {
    if (this.contexts.has(context)) return;
    this.contexts.add(context);
    let restarting = false;
    context.statusChanged.connect((_, status) => {
      if (status === 'restarting' || status === 'autorestarting' || status === 'starting') restarting = true;
      if (status === 'idle' && restarting) {
        restarting = false;
        const id = context.session?.kernel?.id;
        if (id) this.applied.delete(id);
        void this.applyTo(context);
      }
    });
    context.kernelChanged.connect(() => void this.applyTo(context));
    context.disposed.connect(() => {
      this.contexts.delete(context);
      this.report();
    });
    void context.ready.then(() => this.applyTo(context));
  }

  /** Fetches the server's env (it holds the token; never logged) and applies it to every tracked kernel. */
  async refresh(): Promise<void> {
    this.env = await requestAPI<EnvState>('env');
    await Promise.all([...this.contexts].map((c) => this.applyTo(c, true)));
    this.report();
  }

  async applyTo(context: ISessionContext, force = false): Promise<boolean> {
    const kernel = context.session?.kernel;
    if (!kernel || !this.env) return false;
    const version = this.env.active ? this.env.tokenVersion : null;
    if (!force && this.applied.has(kernel.id) && this.applied.get(kernel.id) === version) return false;
    if (!this.env.active && !this.applied.has(kernel.id)) return false;
    if (!this.enabled && this.env.active) return false;
    if (!(await isPython(kernel))) return false;
    const set = this.enabled && this.env.active ? this.env.env : {};
    const unset = this.env.active ? this.env.unset : Object.keys(this.env.env).concat(this.env.unset);
    await kernel.requestExecute({ code: pythonEnvCode(set, unset), silent: true, store_history: false }).done;
    if (this.env.active) this.applied.set(kernel.id, version);
    else this.applied.delete(kernel.id);
    this.report();
    return true;
  }

  private report(): void {
    const active = this.env?.active;
    const count = [...this.contexts].filter((c) => {
      const id = c.session?.kernel?.id;
      return id !== undefined && this.applied.has(id);
    }).length;
    this.onCount(active ? refKey(active) : null, count);
  }
}

async function isPython(kernel: Kernel.IKernelConnection): Promise<boolean> {
  try {
    const info = await kernel.info;
    return (info.language_info?.name ?? '').toLowerCase() === 'python';
  } catch {
    return false;
  }
}

/** Python that sets and removes env vars. Values travel as a JSON string literal (also a valid Python literal). */
export function pythonEnvCode(set: Record<string, string>, unset: string[]): string {
  const payload = JSON.stringify(JSON.stringify({ set, unset }));
  return [
    'def __ray_connect_env(p):',
    '    import json, os',
    '    d = json.loads(p)',
    '    os.environ.update(d["set"])',
    '    for k in d["unset"]:',
    '        os.environ.pop(k, None)',
    `__ray_connect_env(${payload})`,
    'del __ray_connect_env',
  ].join('\n');
}
