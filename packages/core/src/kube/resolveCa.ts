import { rootCertificates } from 'node:tls';
import { RayConnectError } from '../errors.js';
import type { Logger } from '../ports/Logger.js';
import { silentLogger } from '../ports/Logger.js';
import { WORKBENCH_CA_BUNDLE } from './mapKubeError.js';
import type { ReadTextFile } from './readTextFile.js';

export type CaSource = 'setting' | 'kubeconfig' | 'CF_SDK_CA_CERT_PATH' | 'workbench-bundle' | 'system';

export interface ResolvedCa {
  /** PEM to pass as `ca`; undefined = Node's system roots. */
  ca?: string[];
  source: CaSource;
  file?: string;
}

export interface ResolveCaInput {
  /** The CA file setting (rayConnect.caFile). */
  setting?: string;
  /** kubeconfig cluster `certificate-authority` (absolute path) / `certificate-authority-data` (base64). */
  kubeconfig?: { certificateAuthority?: string; certificateAuthorityData?: string };
  env?: Record<string, string | undefined>;
  readFile: ReadTextFile;
  /** Default /etc/pki/tls/custom-certs/ca-bundle.crt. */
  workbenchBundle?: string;
  logger?: Logger;
}

/**
 * Which CA to trust for an API server: the setting > the kubeconfig cluster's CA > CF_SDK_CA_CERT_PATH >
 * the OpenShift AI workbench bundle when present > the system roots. The kubeconfig CA replaces the system roots
 * (as kubectl does); the setting, CF_SDK_CA_CERT_PATH and the bundle are added to them.
 */
export async function resolveCa(input: ResolveCaInput): Promise<ResolvedCa> {
  const logger = input.logger ?? silentLogger;
  const env = input.env ?? process.env;
  const read = async (file: string, what: string, required: boolean): Promise<string | undefined> => {
    try {
      return await input.readFile(file);
    } catch (e) {
      const code = (e as { code?: string }).code ?? 'read failed';
      if (!required) {
        if (code !== 'ENOENT') logger.warn('cannot read a CA file; skipped', { file, source: what, code });
        return undefined;
      }
      throw new RayConnectError('TLS_UNTRUSTED', `Cannot read the CA file ${file} (${what}): ${code}.`, {
        fix: `Correct ${what} to point at a readable PEM file.`,
        details: { file, source: what },
        cause: e,
      });
    }
  };
  if (input.setting) {
    const pem = (await read(input.setting, 'the CA file setting rayConnect.caFile', true)) as string;
    return { ca: [...rootCertificates, pem], source: 'setting', file: input.setting };
  }
  if (input.kubeconfig?.certificateAuthorityData) {
    return {
      ca: [Buffer.from(input.kubeconfig.certificateAuthorityData, 'base64').toString('utf8')],
      source: 'kubeconfig',
    };
  }
  if (input.kubeconfig?.certificateAuthority) {
    const file = input.kubeconfig.certificateAuthority;
    const pem = (await read(file, 'the kubeconfig certificate-authority', true)) as string;
    return { ca: [pem], source: 'kubeconfig', file };
  }
  const fromEnv = env.CF_SDK_CA_CERT_PATH;
  if (fromEnv) {
    const pem = await read(fromEnv, 'CF_SDK_CA_CERT_PATH', false);
    if (pem !== undefined)
      return { ca: [...rootCertificates, pem], source: 'CF_SDK_CA_CERT_PATH', file: fromEnv };
    logger.warn('CF_SDK_CA_CERT_PATH points at a file that does not exist; ignored', { file: fromEnv });
  }
  const bundle = input.workbenchBundle ?? WORKBENCH_CA_BUNDLE;
  const pem = await read(bundle, 'the workbench CA bundle', false);
  if (pem !== undefined) return { ca: [...rootCertificates, pem], source: 'workbench-bundle', file: bundle };
  return { source: 'system' };
}
