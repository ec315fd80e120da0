import { join, resolve } from 'node:path';
import { RayConnectError } from '../errors.js';
import type { Logger } from '../ports/Logger.js';
import { silentLogger } from '../ports/Logger.js';
import type { KubeconfigView, NamedEntry } from './kubeconfigTypes.js';
import { parseKubeconfigFile, type ParsedKubeconfigFile } from './parseKubeconfigFile.js';
import type { ReadTextFile } from './readTextFile.js';

export interface LoadKubeconfigInput {
  env: Record<string, string | undefined>;
  homedir: string;
  readFile: ReadTextFile;
  /** An explicit file (a setting or `--kubeconfig`): replaces KUBECONFIG and ~/.kube/config; must exist. */
  explicitPath?: string;
  /** ':' on POSIX, ';' on Windows. */
  pathDelimiter?: string;
  logger?: Logger;
}

/**
 * Loads the kubeconfig with kubectl's precedence: an explicit file; else the KUBECONFIG list merged (first file
 * wins per name, current-context from the first file that sets it; missing files skipped and listed in `missing`);
 * else ~/.kube/config. No file at all gives an empty view (`files: []`): the caller may then try in-cluster config
 * (as kubectl does); resolveContext() on it says which files are missing.
 */
export async function loadKubeconfig(input: LoadKubeconfigInput): Promise<KubeconfigView> {
  const logger = input.logger ?? silentLogger;
  const parsed: ParsedKubeconfigFile[] = [];
  const missing: string[] = [];
  const read = async (file: string): Promise<ParsedKubeconfigFile | undefined> => {
    let text: string;
    try {
      text = await input.readFile(file);
    } catch (e) {
      if ((e as { code?: string }).code === 'ENOENT') return undefined;
      throw new RayConnectError(
        'KUBECONFIG_INVALID',
        `cannot read the kubeconfig (file ${file}): ${(e as { code?: string }).code ?? 'read failed'}`,
        {
          fix: `Check that ${file} is readable.`,
          details: { file },
          cause: e,
        },
      );
    }
    return parseKubeconfigFile(text, file);
  };

  if (input.explicitPath) {
    const file = resolve(input.explicitPath);
    const one = await read(file);
    if (!one) throw notFound(file, `The kubeconfig file ${file} does not exist.`);
    parsed.push(one);
  } else if (input.env.KUBECONFIG) {
    const delimiter = input.pathDelimiter ?? (process.platform === 'win32' ? ';' : ':');
    const files = [
      ...new Set(
        input.env.KUBECONFIG.split(delimiter)
          .filter((p) => p.trim() !== '')
          .map((p) => resolve(p)),
      ),
    ];
    for (const file of files) {
      const one = await read(file);
      if (one) parsed.push(one);
      else missing.push(file);
    }
    if (missing.length)
      logger.warn('files named in KUBECONFIG do not exist; skipped', { files: missing.join(', ') });
  } else {
    const one = await read(join(input.homedir, '.kube', 'config'));
    if (one) parsed.push(one);
  }
  return mergeKubeconfigs(parsed, missing);
}

/** kubectl's merge: the first file that defines a name wins; current-context from the first file that sets it. */
export function mergeKubeconfigs(
  files: readonly ParsedKubeconfigFile[],
  missing: readonly string[] = [],
): KubeconfigView {
  const firstWins = <T>(pick: (f: ParsedKubeconfigFile) => NamedEntry<T>[]): NamedEntry<T>[] => {
    const seen = new Map<string, NamedEntry<T>>();
    for (const f of files) for (const e of pick(f)) if (!seen.has(e.name)) seen.set(e.name, e);
    return [...seen.values()];
  };
  return deepFreeze({
    files: files.map((f) => f.file),
    missing: [...missing],
    currentContext: files.find((f) => f.currentContext !== undefined)?.currentContext,
    clusters: firstWins((f) => f.clusters),
    users: firstWins((f) => f.users),
    contexts: firstWins((f) => f.contexts),
  });
}

function notFound(file: string, message: string): RayConnectError {
  return new RayConnectError('KUBECONFIG_NOT_FOUND', message, {
    fix: 'Check the path (KUBECONFIG or the kubeconfig setting), or sign in to the cluster another way.',
    details: { file },
  });
}

function deepFreeze<T>(o: T): T {
  if (typeof o === 'object' && o !== null && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}
