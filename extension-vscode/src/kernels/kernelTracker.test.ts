import { describe, expect, it } from 'vitest';
import type { Kernel, KernelStatus } from '@vscode/jupyter-extension';
import { MemoryLogger } from '@ray-connect/core';
import { KernelTracker } from './kernelTracker';

function fakeKernel() {
  const listeners = new Set<(s: KernelStatus) => void>();
  const kernel = {
    status: 'idle' as KernelStatus,
    language: 'python',
    onDidChangeStatus: (l: (s: KernelStatus) => void) => {
      listeners.add(l);
      return { dispose: () => listeners.delete(l) };
    },
    executeCode: () => {
      throw new Error('not used');
    },
  };
  const emit = (s: KernelStatus) => [...listeners].forEach((l) => l(s));
  return { kernel: kernel as unknown as Kernel, emit, listeners };
}

const ref = { clusterId: 'context:a', namespace: 'ns', name: 'rc' };

describe('KernelTracker', () => {
  it('applies, re-applies after a restart, and clears only what it set', async () => {
    const ran: string[] = [];
    let version = 1;
    const t = new KernelTracker(
      new MemoryLogger(),
      async () => ({ RAY_ADDRESS: 'http://127.0.0.1:1', RAY_AUTH_TOKEN: `t${version}` }),
      async (_k, code) => {
        ran.push(code);
      },
    );
    const k = fakeKernel();
    await t.apply(k.kernel, 'nb.ipynb', ref);
    expect(ran[0]).toContain('"RAY_AUTH_TOKEN":"t1"');
    expect(t.count(ref)).toBe(1);

    version = 2;
    k.emit('restarting');
    k.emit('idle');
    await new Promise((r) => setImmediate(r));
    expect(ran[1]).toContain('"RAY_AUTH_TOKEN":"t2"');
    expect(k.listeners.size).toBe(1);

    expect(await t.clear(ref)).toBe(1);
    expect(ran[2]).toContain('for _rc_k in ["RAY_ADDRESS","RAY_AUTH_TOKEN"]');
    expect(ran[2]).not.toContain('update');
    expect(t.count(ref)).toBe(0);
    expect(k.listeners.size).toBe(0);
  });

  it('an idle without a restart does nothing; a dead kernel is forgotten', async () => {
    const ran: string[] = [];
    const t = new KernelTracker(
      new MemoryLogger(),
      async () => ({ RAY_ADDRESS: 'x' }),
      async (_k, code) => void ran.push(code),
    );
    const k = fakeKernel();
    await t.apply(k.kernel, 'nb', ref);
    k.emit('busy');
    k.emit('idle');
    await new Promise((r) => setImmediate(r));
    expect(ran.length).toBe(1);
    k.emit('dead');
    expect(t.count(ref)).toBe(0);
  });

  it('sign-out clears the kernels of that cluster only', async () => {
    const t = new KernelTracker(
      new MemoryLogger(),
      async () => ({ RAY_ADDRESS: 'x' }),
      async () => undefined,
    );
    await t.apply(fakeKernel().kernel, 'a', ref);
    await t.apply(fakeKernel().kernel, 'b', { ...ref, clusterId: 'context:b' });
    expect(await t.clear(undefined, 'context:a')).toBe(1);
    expect(t.count({ ...ref, clusterId: 'context:b' })).toBe(1);
  });
});
