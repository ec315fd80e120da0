import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AddClusterInput, SignInMethod } from '@ray-connect/shared';
import { RayConnectError } from '../errors.js';

/** Non-secret state kept as JSON in `<configDir>/state.json`. Never holds a token. */
export interface ConfigState {
  added: (AddClusterInput & { id: string })[];
  /** Namespaces chosen per cluster id. */
  namespaces: Record<string, string[]>;
  /** How each cluster was last signed in to ('kubeconfig' = the context's own credentials). */
  methods: Record<string, SignInMethod>;
}

const empty = (): ConfigState => ({ added: [], namespaces: {}, methods: {} });

export async function readConfigState(configDir: string): Promise<ConfigState> {
  let text: string;
  try {
    text = await readFile(join(configDir, 'state.json'), 'utf8');
  } catch {
    return empty();
  }
  try {
    const raw = JSON.parse(text) as Partial<ConfigState>;
    return {
      added: Array.isArray(raw.added)
        ? raw.added.filter((a) => typeof a?.id === 'string' && typeof a.server === 'string')
        : [],
      namespaces: typeof raw.namespaces === 'object' && raw.namespaces !== null ? raw.namespaces : {},
      methods: typeof raw.methods === 'object' && raw.methods !== null ? raw.methods : {},
    };
  } catch (e) {
    throw new RayConnectError(
      'BAD_REQUEST',
      `The Ray Connect state file ${join(configDir, 'state.json')} is not valid JSON`,
      {
        fix: `Fix or delete ${join(configDir, 'state.json')} (it holds added clusters and chosen namespaces, no secrets)`,
        cause: e,
      },
    );
  }
}

/** Read-modify-write of the state file (atomic rename, 0600 in a 0700 directory). */
export async function updateConfigState(
  configDir: string,
  change: (state: ConfigState) => void,
): Promise<ConfigState> {
  const state = await readConfigState(configDir);
  change(state);
  await mkdir(configDir, { recursive: true, mode: 0o700 });
  const file = join(configDir, 'state.json');
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, JSON.stringify(state, null, 2) + '\n', { mode: 0o600 });
  await rename(temp, file);
  return state;
}
