import type { Clock } from '../ports/Clock.js';
import type { CredentialSource } from './credential.js';
import type { ReadTextFile } from './readTextFile.js';
import { tokenFileSource } from './tokenFileSource.js';

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface InClusterInput {
  env: Record<string, string | undefined>;
  readFile: ReadTextFile;
  /** Default /var/run/secrets/kubernetes.io/serviceaccount (token, ca.crt, namespace). */
  dir?: string;
  clock?: Clock;
  /** The token is re-read this often (Kubernetes rotates it). Default 60 s. */
  tokenReloadMs?: number;
}

export interface InClusterConfig {
  server: string;
  ca: string | undefined;
  namespace: string;
  credential: CredentialSource;
}

/**
 * The pod's service account, as client-go's InClusterConfig: KUBERNETES_SERVICE_HOST/PORT and the mounted token.
 * Undefined when not running in a pod (no env, or no token file).
 */
export async function inClusterConfig(input: InClusterInput): Promise<InClusterConfig | undefined> {
  const host = input.env.KUBERNETES_SERVICE_HOST;
  const port = input.env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) return undefined;
  const dir = input.dir ?? SERVICE_ACCOUNT_DIR;
  const optional = async (file: string) => {
    try {
      return await input.readFile(`${dir}/${file}`);
    } catch {
      return undefined;
    }
  };
  const token = await optional('token');
  if (token === undefined) return undefined;
  const ca = await optional('ca.crt');
  const namespace = (await optional('namespace'))?.trim() || 'default';
  const server = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const credential = tokenFileSource({
    path: `${dir}/token`,
    readFile: input.readFile,
    cacheMs: input.tokenReloadMs ?? 60_000,
    description: 'in-cluster service account',
    ...(input.clock ? { clock: input.clock } : {}),
  });
  return { server, ca, namespace, credential };
}
