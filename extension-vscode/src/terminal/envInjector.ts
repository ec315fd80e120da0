import type { EnvironmentVariableScope, MarkdownString } from 'vscode';
import type { RayClusterRef } from '@ray-connect/shared';
import { refKey } from '@ray-connect/shared';

/** The parts of VS Code's collection we use (tests pass a fake). */
export interface EnvCollection {
  persistent: boolean;
  description: string | MarkdownString | undefined;
  replace(variable: string, value: string): void;
  delete(variable: string): void;
  get(variable: string): unknown;
  clear(): void;
}

export interface ScopedEnvCollection extends EnvCollection {
  getScoped?(scope: EnvironmentVariableScope): EnvCollection;
}

interface Injected {
  ref: RayClusterRef;
  names: Set<string>;
  tokenVersion: number;
  collection: EnvCollection;
}

/**
 * Puts RAY_AUTH_MODE / RAY_AUTH_TOKEN(_PATH) / RAY_ADDRESS of the connected Ray cluster into new terminals through
 * `context.environmentVariableCollection`. The collection is NOT persistent (VS Code would store the token as plain
 * JSON in workspace storage otherwise). Only the variables set here are ever removed; one Ray cluster per scope
 * (whole window, or one workspace folder when folders choose different clusters).
 */
export class EnvInjector {
  private readonly injected = new Map<string, Injected>();

  constructor(
    private readonly root: ScopedEnvCollection,
    private readonly describe: (ref: RayClusterRef) => string,
    private readonly onSecret: (value: string) => void = () => undefined,
  ) {
    root.persistent = false;
    // Leftovers from an older run (or a build that persisted) are ours by definition: start clean.
    root.clear();
    root.description = undefined;
  }

  private collectionFor(scope: EnvironmentVariableScope | undefined): EnvCollection {
    if (scope?.workspaceFolder && this.root.getScoped) {
      const c = this.root.getScoped(scope);
      c.persistent = false;
      return c;
    }
    return this.root;
  }

  private scopeKey(scope: EnvironmentVariableScope | undefined): string {
    return scope?.workspaceFolder ? `folder:${scope.workspaceFolder.uri.toString()}` : 'window';
  }

  /** Sets the env for a Ray cluster in a scope, replacing what was there (ours) and removing names no longer used. */
  apply(
    ref: RayClusterRef,
    env: Record<string, string>,
    tokenVersion: number,
    scope?: EnvironmentVariableScope,
  ): void {
    const key = this.scopeKey(scope);
    const collection = this.collectionFor(scope);
    const previous = this.injected.get(key);
    const names = new Set(Object.keys(env));
    if (previous) for (const n of previous.names) if (!names.has(n)) collection.delete(n);
    for (const [name, value] of Object.entries(env)) {
      if (/TOKEN/.test(name)) this.onSecret(value);
      collection.replace(name, value);
    }
    collection.persistent = false;
    collection.description = this.describe(ref);
    this.injected.set(key, { ref, names, tokenVersion, collection });
  }

  /** Removes what we set for this Ray cluster (every scope), or for everything when no ref is given. Returns the names removed. */
  clear(ref?: RayClusterRef): string[] {
    const removed = new Set<string>();
    for (const [key, entry] of [...this.injected]) {
      if (ref && refKey(entry.ref) !== refKey(ref)) continue;
      for (const n of entry.names) {
        entry.collection.delete(n);
        removed.add(n);
      }
      entry.collection.description = undefined;
      this.injected.delete(key);
    }
    return [...removed];
  }

  /** Clears every injection of a cluster (sign-out). */
  clearCluster(clusterId: string): string[] {
    const removed: string[] = [];
    for (const entry of [...this.injected.values()])
      if (entry.ref.clusterId === clusterId) removed.push(...this.clear(entry.ref));
    return removed;
  }

  /** Ray clusters currently injected somewhere, for token rotation. */
  refs(): { ref: RayClusterRef; tokenVersion: number }[] {
    return [...this.injected.values()].map((e) => ({ ref: e.ref, tokenVersion: e.tokenVersion }));
  }

  isInjected(ref: RayClusterRef): boolean {
    return [...this.injected.values()].some((e) => refKey(e.ref) === refKey(ref));
  }

  /** Re-applies after a `token-rotated` event: same names, new values, every scope that had this Ray cluster. */
  rotate(ref: RayClusterRef, env: Record<string, string>, tokenVersion: number): void {
    for (const entry of [...this.injected.values()]) {
      if (refKey(entry.ref) !== refKey(ref) || entry.tokenVersion >= tokenVersion) continue;
      const names = new Set(Object.keys(env));
      for (const n of entry.names) if (!names.has(n)) entry.collection.delete(n);
      for (const [name, value] of Object.entries(env)) {
        if (/TOKEN/.test(name)) this.onSecret(value);
        entry.collection.replace(name, value);
      }
      entry.names = names;
      entry.tokenVersion = tokenVersion;
    }
  }
}
