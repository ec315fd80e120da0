import { dirname, isAbsolute, resolve } from 'node:path';
import { parse } from 'yaml';
import { RayConnectError } from '../errors.js';
import { Secret } from '../secret.js';
import type {
  KubeAuthProvider,
  KubeCluster,
  KubeContext,
  KubeExecConfig,
  KubeUser,
  NamedEntry,
} from './kubeconfigTypes.js';

/** One kubeconfig file, validated. Relative paths are resolved against the file's directory. */
export interface ParsedKubeconfigFile {
  readonly file: string;
  readonly currentContext: string | undefined;
  readonly clusters: NamedEntry<KubeCluster>[];
  readonly users: NamedEntry<KubeUser>[];
  readonly contexts: NamedEntry<KubeContext>[];
}

type Obj = Record<string, unknown>;

const EXEC_API_VERSIONS = ['client.authentication.k8s.io/v1', 'client.authentication.k8s.io/v1beta1'];
const SECRET_PROVIDER_KEYS = ['id-token', 'refresh-token', 'client-secret', 'access-token'];
const INTERACTIVE_MODES = ['Never', 'IfAvailable', 'Always'] as const;

/** Parses and validates one kubeconfig file. Errors are KUBECONFIG_INVALID naming the field and the file. */
export function parseKubeconfigFile(text: string, file: string): ParsedKubeconfigFile {
  const fail = (field: string, problem: string): never => {
    throw new RayConnectError('KUBECONFIG_INVALID', `${field} ${problem} (file ${file})`, {
      fix: `Correct ${field} in ${file}, or point KUBECONFIG at a valid file.`,
      details: { file, field },
    });
  };
  let doc: unknown;
  try {
    doc = parse(text, { uniqueKeys: false });
  } catch (e) {
    const line = (e as { linePos?: { line: number }[] }).linePos?.[0]?.line;
    throw new RayConnectError(
      'KUBECONFIG_INVALID',
      `the file is not valid YAML${line ? ` (line ${line})` : ''} (file ${file})`,
      {
        fix: `Correct the YAML in ${file}, or point KUBECONFIG at a valid file.`,
        details: { file, field: '', line },
      },
    );
  }
  if (doc === null || doc === undefined)
    return { file, currentContext: undefined, clusters: [], users: [], contexts: [] };
  if (!isObj(doc)) return fail('the document', 'is not a mapping');

  const dir = dirname(file);
  const path = (value: string | undefined): string | undefined =>
    value === undefined || value === '' || isAbsolute(value) ? value || undefined : resolve(dir, value);
  const at = (field: string, key: string): string => (field === '' ? key : `${field}.${key}`);
  const str = (o: Obj, key: string, field: string, required = false): string | undefined => {
    const v = o[key];
    if (v === undefined || v === null) return required ? fail(at(field, key), 'is missing') : undefined;
    if (typeof v !== 'string') return fail(at(field, key), `must be a string, not ${typeName(v)}`);
    if (required && v === '') return fail(at(field, key), 'is empty');
    return v;
  };
  const bool = (o: Obj, key: string, field: string): boolean | undefined => {
    const v = o[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'boolean') return fail(`${field}.${key}`, `must be true or false, not ${typeName(v)}`);
    return v;
  };
  const list = (key: string): Obj[] => {
    const v = (doc as Obj)[key];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) return fail(key, `must be a list, not ${typeName(v)}`);
    return v.map((item, i) =>
      isObj(item) ? item : fail(`${key}[${i}]`, `must be a mapping, not ${typeName(item)}`),
    );
  };
  const named = <T>(key: string, inner: string, build: (o: Obj, field: string) => T): NamedEntry<T>[] =>
    list(key).map((item, i) => {
      const name = str(item, 'name', `${key}[${i}]`, true) as string;
      const body = item[inner];
      if (!isObj(body))
        return fail(
          `${key}[${i}].${inner}`,
          body === undefined || body === null ? 'is missing' : `must be a mapping, not ${typeName(body)}`,
        );
      return { name, file, value: build(body, `${key}[${i}].${inner}`) };
    });

  const cluster = (o: Obj, field: string): KubeCluster => {
    const server = str(o, 'server', field, true) as string;
    let url: URL | undefined;
    try {
      url = new URL(server);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:'))
      fail(`${field}.server`, `is not an http(s) URL: ${JSON.stringify(server)}`);
    const ext = Array.isArray(o.extensions)
      ? (o.extensions as unknown[]).find(
          (x): x is Obj => isObj(x) && x.name === 'client.authentication.k8s.io/exec',
        )
      : undefined;
    return compact({
      server,
      certificateAuthority: path(str(o, 'certificate-authority', field)),
      certificateAuthorityData: str(o, 'certificate-authority-data', field),
      insecureSkipTlsVerify: bool(o, 'insecure-skip-tls-verify', field),
      tlsServerName: str(o, 'tls-server-name', field),
      proxyUrl: str(o, 'proxy-url', field),
      execExtension: ext?.extension,
    });
  };

  const exec = (o: Obj, field: string): KubeExecConfig => {
    const command = str(o, 'command', field, true) as string;
    const apiVersion = str(o, 'apiVersion', field, true) as string;
    if (!EXEC_API_VERSIONS.includes(apiVersion))
      fail(
        `${field}.apiVersion`,
        `must be one of ${EXEC_API_VERSIONS.join(', ')}, not ${JSON.stringify(apiVersion)}`,
      );
    const args = o.args ?? [];
    if (!Array.isArray(args) || args.some((a) => typeof a !== 'string'))
      fail(`${field}.args`, 'must be a list of strings');
    const envList = o.env ?? [];
    if (!Array.isArray(envList)) fail(`${field}.env`, 'must be a list');
    const env = (envList as unknown[]).map((e, i) => {
      if (!isObj(e)) return fail(`${field}.env[${i}]`, 'must be a mapping with name and value');
      return {
        name: str(e, 'name', `${field}.env[${i}]`, true) as string,
        value: str(e, 'value', `${field}.env[${i}]`) ?? '',
      };
    });
    const mode = str(o, 'interactiveMode', field);
    if (mode !== undefined && !(INTERACTIVE_MODES as readonly string[]).includes(mode))
      fail(
        `${field}.interactiveMode`,
        `must be one of ${INTERACTIVE_MODES.join(', ')}, not ${JSON.stringify(mode)}`,
      );
    // kubectl resolves a command with a path separator against the kubeconfig's directory; bare names use PATH.
    const resolvedCommand = command.includes('/') && !isAbsolute(command) ? resolve(dir, command) : command;
    return compact({
      command: resolvedCommand,
      args: args as string[],
      env,
      apiVersion,
      provideClusterInfo: bool(o, 'provideClusterInfo', field) ?? false,
      interactiveMode: (mode as KubeExecConfig['interactiveMode'] | undefined) ?? 'IfAvailable',
      installHint: str(o, 'installHint', field),
    });
  };

  const authProvider = (o: Obj, field: string): KubeAuthProvider => {
    const name = str(o, 'name', field, true) as string;
    const config: Record<string, string> = {};
    const secrets: Record<string, Secret> = {};
    const raw = o.config ?? {};
    if (!isObj(raw)) return fail(`${field}.config`, `must be a mapping, not ${typeName(raw)}`);
    for (const [k, v] of Object.entries(raw)) {
      if (v === null || v === undefined) continue;
      if (typeof v !== 'string') fail(`${field}.config.${k}`, `must be a string, not ${typeName(v)}`);
      if (SECRET_PROVIDER_KEYS.includes(k)) secrets[k] = new Secret(v as string);
      else config[k] = v as string;
    }
    if (config['idp-certificate-authority'])
      config['idp-certificate-authority'] = path(config['idp-certificate-authority']) as string;
    return { name, config, secrets };
  };

  const user = (o: Obj, field: string): KubeUser => {
    // kubectl's JSON name is `tokenFile`; some tools write `token-file`.
    const tokenFile = str(o, 'tokenFile', field) ?? str(o, 'token-file', field);
    const u: KubeUser = compact({
      token: secretOf(str(o, 'token', field)),
      tokenFile: path(tokenFile),
      clientCertificate: path(str(o, 'client-certificate', field)),
      clientCertificateData: str(o, 'client-certificate-data', field),
      clientKey: path(str(o, 'client-key', field)),
      clientKeyData: secretOf(str(o, 'client-key-data', field)),
      username: str(o, 'username', field),
      password: secretOf(str(o, 'password', field)),
      exec:
        o.exec === undefined || o.exec === null
          ? undefined
          : isObj(o.exec)
            ? exec(o.exec, `${field}.exec`)
            : fail(`${field}.exec`, `must be a mapping, not ${typeName(o.exec)}`),
      authProvider:
        o['auth-provider'] === undefined || o['auth-provider'] === null
          ? undefined
          : isObj(o['auth-provider'])
            ? authProvider(o['auth-provider'], `${field}.auth-provider`)
            : fail(`${field}.auth-provider`, `must be a mapping, not ${typeName(o['auth-provider'])}`),
    });
    const hasCert = u.clientCertificate !== undefined || u.clientCertificateData !== undefined;
    const hasKey = u.clientKey !== undefined || u.clientKeyData !== undefined;
    if (hasCert && !hasKey) fail(`${field}.client-key`, 'is missing (client-certificate is set)');
    if (hasKey && !hasCert) fail(`${field}.client-certificate`, 'is missing (client-key is set)');
    return u;
  };

  const context = (o: Obj, field: string): KubeContext =>
    compact({
      cluster: str(o, 'cluster', field, true) as string,
      user: str(o, 'user', field, true) as string,
      namespace: str(o, 'namespace', field) || undefined,
    });

  return {
    file,
    currentContext: str(doc, 'current-context', '') || undefined,
    clusters: named('clusters', 'cluster', cluster),
    users: named('users', 'user', user),
    contexts: named('contexts', 'context', context),
  };
}

function secretOf(v: string | undefined): Secret | undefined {
  return v === undefined || v === '' ? undefined : new Secret(v);
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `a ${typeof v}`;
}

/** Drops undefined fields so frozen views compare and print cleanly. */
function compact<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}
