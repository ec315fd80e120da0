import type { Kernel } from '@vscode/jupyter-extension';
import type { RayClusterRef } from '@ray-connect/shared';
import { refKey } from '@ray-connect/shared';
import type { Logger } from '@ray-connect/core';
import { kernelEnvCode } from './kernelCode';

/** Runs code silently in a kernel (the Jupyter extension's executeCode); throws on a Python error. */
export type RunCode = (kernel: Kernel, code: string) => Promise<void>;

interface Tracked {
  kernel: Kernel;
  notebook: string;
  ref: RayClusterRef;
  names: string[];
  listener: { dispose(): void };
  restarting: boolean;
}

/**
 * Which kernels got which Ray cluster's env, and re-applying it after a restart (a restart starts a fresh process,
 * so what we set is gone; the Jupyter API reports restarting/autorestarting then idle). No vscode import: tested
 * with fake kernels.
 */
export class KernelTracker {
  private readonly tracked = new Map<Kernel, Tracked>();

  constructor(
    private readonly log: Logger,
    private readonly envFor: (ref: RayClusterRef) => Promise<Record<string, string>>,
    private readonly run: RunCode,
  ) {}

  count(ref: RayClusterRef): number {
    return [...this.tracked.values()].filter((t) => refKey(t.ref) === refKey(ref)).length;
  }

  async apply(kernel: Kernel, notebook: string, ref: RayClusterRef): Promise<void> {
    const env = await this.envFor(ref);
    const previous = this.tracked.get(kernel);
    const unset = previous ? previous.names.filter((n) => !(n in env)) : [];
    await this.run(kernel, kernelEnvCode(env, unset));
    previous?.listener.dispose();
    const tracked: Tracked = {
      kernel,
      notebook,
      ref,
      names: Object.keys(env),
      restarting: false,
      listener: { dispose: () => undefined },
    };
    tracked.listener = kernel.onDidChangeStatus((status) => {
      if (status === 'restarting' || status === 'autorestarting' || status === 'starting')
        tracked.restarting = true;
      else if (status === 'dead') {
        tracked.listener.dispose();
        this.tracked.delete(kernel);
      } else if (status === 'idle' && tracked.restarting) {
        tracked.restarting = false;
        this.log.info('kernel restarted: applying the Ray environment again', { notebook });
        void this.apply(kernel, notebook, tracked.ref).catch((e: unknown) =>
          this.log.warn('re-applying to a restarted kernel failed', { error: String(e) }),
        );
      }
    });
    this.tracked.set(kernel, tracked);
    this.log.info('Ray environment applied to a kernel', { notebook, names: tracked.names });
  }

  /** New token values for every kernel of this Ray cluster. */
  async rotate(ref: RayClusterRef): Promise<void> {
    for (const t of [...this.tracked.values()])
      if (refKey(t.ref) === refKey(ref)) await this.apply(t.kernel, t.notebook, ref);
  }

  /** Removes what we set from kernels of this Ray cluster, or of a whole cluster, or all. Returns how many. */
  async clear(ref?: RayClusterRef, clusterId?: string): Promise<number> {
    let n = 0;
    for (const t of [...this.tracked.values()]) {
      if (ref && refKey(t.ref) !== refKey(ref)) continue;
      if (clusterId && t.ref.clusterId !== clusterId) continue;
      t.listener.dispose();
      this.tracked.delete(t.kernel);
      try {
        await this.run(t.kernel, kernelEnvCode({}, t.names));
        n++;
      } catch (e) {
        this.log.warn('removing the Ray environment from a kernel failed', {
          notebook: t.notebook,
          error: String(e),
        });
      }
    }
    return n;
  }

  dispose(): void {
    for (const t of this.tracked.values()) t.listener.dispose();
    this.tracked.clear();
  }
}
