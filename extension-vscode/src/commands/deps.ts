import type * as vscode from 'vscode';
import type { RayConnectApi } from '@ray-connect/shared';
import type { ChannelLogger } from '../host/logger';
import type { Redactor } from '../host/redact';
import type { Settings } from '../host/settings';
import type { Store } from '../state';
import type { EnvInjector } from '../terminal/envInjector';
import type { KernelInjector } from '../kernels/kernelInjector';
import type { HostEvents } from '../host/events';

/** Everything a command handler may use. Built once in extension.ts (the composition root). */
export interface Deps {
  api: RayConnectApi;
  store: Store;
  log: ChannelLogger;
  output: vscode.LogOutputChannel;
  redactor: Redactor;
  env: EnvInjector;
  kernels: KernelInjector;
  settings: () => Settings;
  events: HostEvents;
  /** Non-secret per-user state (globalState): remembered issuers per cluster, last connections. */
  memento: Pick<vscode.Memento, 'get' | 'update'>;
  /** Terminals opened while a Ray cluster's env was injected, by refKey (for "Env in 2 terminals"). */
  terminalCounts: Map<string, number>;
}

/** A command handler: arguments come from the palette (none), a tree row (a TreeNode) or another command. */
export type Handler = (deps: Deps, ...args: unknown[]) => Promise<unknown>;
