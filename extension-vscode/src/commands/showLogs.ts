import type { Deps } from './deps';

/** rayConnect.showLogs: the Ray Connect log (tokens redacted). */
export async function showLogs(deps: Deps): Promise<unknown> {
  deps.output.show(true);
  return undefined;
}
