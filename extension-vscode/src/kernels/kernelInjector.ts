import * as vscode from 'vscode';
import type { Jupyter, Kernel } from '@vscode/jupyter-extension';
import type { RayClusterRef } from '@ray-connect/shared';
import type { Logger } from '@ray-connect/core';
import { KernelTracker } from './kernelTracker';

export const JUPYTER_EXTENSION_ID = 'ms-toolsai.jupyter';

/**
 * Sets os.environ in running Python kernels through the Jupyter extension's kernel API (getKernel + executeCode,
 * which shows Jupyter's own consent prompt the first time), and again after a kernel restarts. Kernels of other
 * languages and a missing Jupyter extension get a clear notice instead.
 */
export class KernelInjector implements vscode.Disposable {
  private jupyter: Jupyter | undefined;
  private readonly tracker: KernelTracker;

  constructor(
    private readonly log: Logger,
    envFor: (ref: RayClusterRef) => Promise<Record<string, string>>,
  ) {
    this.tracker = new KernelTracker(log, envFor, runCode);
  }

  dispose(): void {
    this.tracker.dispose();
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

  /** Running kernels of open notebooks. */
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
    return this.tracker.count(ref);
  }

  /** Applies to one notebook's kernel (Jupyter asks the user's consent the first time). Returns a reason when it could not. */
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
    await this.tracker.apply(kernel, uri.toString(), ref);
    return { ok: true };
  }

  rotate(ref: RayClusterRef): Promise<void> {
    return this.tracker.rotate(ref);
  }

  clear(ref?: RayClusterRef, clusterId?: string): Promise<number> {
    return this.tracker.clear(ref, clusterId);
  }
}

async function runCode(kernel: Kernel, code: string): Promise<void> {
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
