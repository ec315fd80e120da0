import type { EnvironmentVariableScope } from 'vscode';
import type { RayClusterRef, SessionEnv } from '@ray-connect/shared';
import type { Deps } from '../commands/deps';

/** Fetches the session env of a connected Ray cluster and registers its secret values with the log redactor. */
export async function sessionEnv(deps: Deps, ref: RayClusterRef): Promise<SessionEnv> {
  const s = await deps.api.sessionEnv(ref);
  for (const [k, v] of Object.entries(s.env))
    if (/TOKEN/.test(k) && !k.endsWith('_PATH')) deps.redactor.addSecret(v);
  return s;
}

/**
 * Puts the env into new terminals (when enabled): of the whole window, or of one workspace folder when the folders
 * of a multi-root workspace use different Ray clusters. Returns whether terminals got it.
 */
export async function applyTerminalEnv(
  deps: Deps,
  ref: RayClusterRef,
  scope?: EnvironmentVariableScope,
): Promise<boolean> {
  if (!deps.settings().injectTerminals) return false;
  const s = await sessionEnv(deps, ref);
  deps.env.apply(ref, s.env, s.tokenVersion, scope);
  return true;
}

/** `export NAME='value'` lines for a POSIX shell. */
export function exportLines(env: Record<string, string>): string {
  return Object.entries(env)
    .map(([k, v]) => `export ${k}='${v.replace(/'/g, `'\\''`)}'`)
    .join('\n');
}
