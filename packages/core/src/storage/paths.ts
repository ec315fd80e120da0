import { homedir } from 'node:os';
import { join } from 'node:path';

/** Where Ray Connect keeps its own files (locks, an opted-in file store): `$XDG_CONFIG_HOME/ray-connect` or `~/.config/ray-connect`. */
export function defaultConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env['XDG_CONFIG_HOME'] || join(homedir(), '.config');
  return join(base, 'ray-connect');
}
