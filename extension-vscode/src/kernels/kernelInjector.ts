import * as vscode from 'vscode';
import type { Jupyter, Kernel } from '@vscode/jupyter-extension';
import type { RayClusterRef } from '@ray-connect/shared';
import { refKey } from '@ray-connect/shared';
import type { Logger } from '@ray-connect/core';
import { kernelEnvCode } from './kernelCode';

export const JUPYTER_EXTENSION_ID = 'ms-toolsai.jupyter';

interface Tracked {
  kernel: Kernel;
  notebook: string;
  ref: RayClusterRef;
  names: string[];
  listener: vscode.Disposable;
  restarting: boolean;
}

/**
 * Sets os.environ in running Python kernels through the Jupyter extension's kernel API (getKernel + executeCode,
 * which shows Jupyter's own consent prompt the first time), and again after a kernel restarts. Kernels of other
 * languages and a missing Jupyter extension get a clear notice instead.
 */
export class KernelInjector implements vscode.Disposable {
  private readonly tracked = new Map<Kernel, Tracked>();
  private jupyter: Jupyter | undefined;

  constructor(
    private readonly log: Logger,
    private readonly envFor: (ref: RayClusterRef) => Promise<Record<string, string>>,
  ) {}

  dispose(): void {
    for (const t of this.tracked.values()) t.listener.dispose();
    this.tracked.clear();
  }

  get available(): boolean {
    return vscode.extensions.getExtension(JUPYTER_EXTENSION_ID) !== undefined;
  }

  private async api(): Promise<Jupyter | undefined> {
    if (this.jupyter) return this.jupyter;
    const ext = vscode.extensions.getExtension<Jupyter>(JUPYTER_EXTENSION_ID);
    if (!ext) return undefined;
    this.jupyter = ext.isActive ? ext.exports : await ext.activate();
    return this.jupyter;
  }

  /** Running kernels of open notebooks: [notebook uri, kernel]. */
  async runningKernels(): Promise<{ uri: vscode.Uri; kernel: Kernel }[]> {
    const api = await this.api();
    if (!api) return [];
    const out: { uri: vscode.Uri; kernel: Kernel }[] = [];
    for (const nb of vscode.workspace.notebookDocuments) {
      try {
        const kernel = await api.kernels.getKernel(nb.uri);
        if (kernel) out.push({ uri: nb.uri, kernel });
      } catch (e) {
        this.log.debug('getKernel failed', { notebook: nb.uri.toString(), error: String(e) });
      }
    }
    return out;
  }

  count(ref: RayClusterRef): number {
    return [...this.tracked.values()].filter((t) => refKey(t.ref) === refKey(ref)).length;
  }

  /** Applies to one notebook's kernel. Returns a reason when it could not. */
  async applyToNotebook(
    uri: vscode.Uri,
    ref: RayClusterRef,
  ): Promise<{ ok: true } | { ok: false; reason: string }> {
    const api = await this.api();
    if (!api)
      return {
        ok: false,
        reason: vscode.l10n.t(
          'The Jupyter extension ({0}) is not installed, so running kernels cannot be updated. New terminals have the Ray environment.',
          JUPYTER_EXTENSION_ID,
        ),
      };
    const kernel = await api.kernels.getKernel(uri);
    if (!kernel)
      return {
        ok: false,
        reason: vscode.l10n.t('This notebook has no running kernel yet. Run a cell, then apply again.'),
      };
    if (kernel.language.toLowerCase() !== 'python') {
      return {
        ok: false,
        reason: vscode.l10n.t(
          'Ray Connect sets the environment only in Python kernels; this kernel is {0}.',
          kernel.language,
        ),
      };
    }
    await this.apply(kernel, uri.toString(), ref);
    return { ok: true };
  }

  private async apply(kernel: Kernel, notebook: string, ref: RayClusterRef): Promise<void> {
    const env = await this.envFor(ref);
    const previous = this.tracked.get(kernel);
    const unset = previous ? previous.names.filter((n) => !(n in env)) : [];
    await this.run(kernel, kernelEnvCode(env, unset));
    if (previous) previous.listener.dispose();
    const tracked: Tracked = {
      kernel,
      notebook,
      ref,
      names: Object.keys(env),
      restarting: false,
      listener: kernel.onDidChangeStatus((status) => {
        // A restart starts a fresh process: the env we set is gone. Re-apply once it is idle again.
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
      }),
    };
    this.tracked.set(kernel, tracked);
    this.log.info('Ray environment applied to a kernel', { notebook, names: tracked.names });
  }

  private async run(kernel: Kernel, code: string): Promise<void> {
    const source = new vscode.CancellationTokenSource();
    try {
      for await (const output of kernel.executeCode(code, source.token)) {
        const error = output.items.find((i) => i.mime === 'application/vnd.code.notebook.error');
        if (error) throw new Error(new TextDecoder().decode(error.data));
      }
    } finally {
      source.dispose();
    }
  }

  /** Re-applies new values after a token rotation. */
  async rotate(ref: RayClusterRef): Promise<void> {
    for (const t of [...this.tracked.values()])
      if (refKey(t.ref) === refKey(ref)) await this.apply(t.kernel, t.notebook, ref);
  }

  /** Removes the variables we set from kernels of this Ray cluster (or every cluster). */
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
}
