import type { InjectionCounts } from '@ray-connect/shared';
import { refKey } from '@ray-connect/shared';
import { requestAPI, type EnvState } from './request.js';

/**
 * What the panel shows of the Ray env: how many kernels and terminals hold it. Display only: the Jupyter server
 * gives the env to new kernels (any kernelspec) and terminals at launch and updates running Python kernels
 * itself; the page never runs env code and never receives a value (`GET ray-connect/env` and the `env-changed`
 * event carry names and counts).
 */
export class EnvCounts {
  state: EnvState | undefined;

  constructor(private readonly onChange: (injections: Record<string, InjectionCounts>) => void) {}

  /** Reads the server's state (on start, and when the event stream reconnects). */
  async refresh(): Promise<EnvState> {
    const state = await requestAPI<EnvState>('env');
    this.update(state);
    return state;
  }

  /** Asks the server to apply the env to running Python kernels again (e.g. one was busy for long). */
  async reapply(): Promise<EnvState> {
    const state = await requestAPI<EnvState>('env', { method: 'POST', body: '{}' });
    this.update(state);
    return state;
  }

  /** From `GET env` or an `env-changed` event. */
  update(state: EnvState): void {
    this.state = state;
    this.onChange(injectionsOf(state));
  }
}

export function injectionsOf(state: EnvState): Record<string, InjectionCounts> {
  if (!state.active) return {};
  return {
    [refKey(state.active)]: {
      terminals: state.terminals,
      kernels: state.kernels,
      ...(state.skippedKernels ? { skippedKernels: state.skippedKernels } : {}),
    },
  };
}
