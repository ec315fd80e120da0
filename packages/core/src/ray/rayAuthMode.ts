import type { RayAuthMode, RayTokenSource } from '@ray-connect/shared';
import { checkName } from './checkName.js';
import type { Container, EnvVar, RayCluster } from './kubeTypes.js';
import { asArray, asRecord, asString } from './json.js';
import { isAtLeast, MIN_K8S_RAY, MIN_TOKEN_RAY, parseRayVersion } from './rayVersion.js';

export interface RayAuth {
  authMode: RayAuthMode;
  tokenSource: RayTokenSource;
  warnings: string[];
}

export const TOKEN_KEY = 'auth_token';

/**
 * How a RayCluster authenticates and where its token lives (ray-auth.md section 4):
 * `spec.authOptions` (KubeRay >= 1.5.1) first, else the head container's env (legacy / manual clusters).
 */
export function rayAuthMode(rc: RayCluster, name: string): RayAuth {
  const spec = asRecord(rc.spec);
  const options = spec?.authOptions === undefined ? undefined : asRecord(spec.authOptions);
  const version = parseRayVersion(asString(spec?.rayVersion)) ?? parseRayVersion(headImage(rc));
  const malformed = spec?.authOptions !== undefined && spec.authOptions !== null && options === undefined;
  const auth: RayAuth = malformed
    ? {
        authMode: 'unknown',
        tokenSource: { kind: 'none' },
        warnings: ['spec.authOptions is not an object: connect probes the head for its auth mode'],
      }
    : options !== undefined
      ? fromAuthOptions(options, name, headContainer(rc))
      : fromHeadEnv(headContainer(rc));
  if (version !== undefined) {
    const label = version.join('.');
    if (auth.authMode === 'kubernetes' && !isAtLeast(version, MIN_K8S_RAY))
      auth.warnings.push(`Kubernetes RBAC mode needs Ray >= 2.55; this cluster runs Ray ${label}`);
    else if (auth.authMode === 'token' && !isAtLeast(version, MIN_TOKEN_RAY))
      auth.warnings.push(`token auth needs Ray >= 2.52; this cluster runs Ray ${label}`);
  }
  return auth;
}

function fromAuthOptions(
  options: Record<string, unknown>,
  name: string,
  container: Container | undefined,
): RayAuth {
  const mode = asString(options.mode);
  const secretName = asString(options.secretName);
  const warnings: string[] = [];
  if (mode === undefined) {
    // KubeRay makes its Secret only when neither secretName nor enableK8sTokenAuth is set (reconcileAuthSecret).
    const why =
      options.enableK8sTokenAuth === true
        ? 'authOptions.enableK8sTokenAuth without mode: token: KubeRay rejects this spec'
        : secretName
          ? `authOptions has no mode: Ray auth is off (Secret ${secretName} is not used)`
          : `authOptions has no mode: Ray auth is off (KubeRay still creates a Secret ${checkName(name)})`;
    return { authMode: 'none', tokenSource: { kind: 'none' }, warnings: [why] };
  }
  if (mode === 'disabled') return { authMode: 'none', tokenSource: { kind: 'none' }, warnings };
  if (mode !== 'token')
    return {
      authMode: 'unknown',
      tokenSource: { kind: 'none' },
      warnings: [`unknown authOptions.mode "${mode}"`],
    };
  if (options.enableK8sTokenAuth === true) {
    if (secretName)
      warnings.push('authOptions.secretName is ignored with enableK8sTokenAuth (they are exclusive)');
    return { authMode: 'kubernetes', tokenSource: { kind: 'kubernetes-identity' }, warnings };
  }
  // KubeRay adds RAY_AUTH_TOKEN (from its Secret) only when the head container has none (common/pod.go):
  // a user's own RAY_AUTH_TOKEN is what the head uses.
  const own = ownToken(container);
  if (own !== undefined) {
    warnings.push(
      'the head container sets its own RAY_AUTH_TOKEN: KubeRay keeps it, so connect hands out that token, not the Secret KubeRay makes',
    );
    return { authMode: 'token', tokenSource: own, warnings };
  }
  return {
    authMode: 'token',
    tokenSource: { kind: 'secret', secretName: secretName || checkName(name), key: TOKEN_KEY },
    warnings,
  };
}

function ownToken(container: Container | undefined): RayTokenSource | undefined {
  const env = asArray(container?.env).map(asRecord) as (EnvVar | undefined)[];
  const tokenVar = env.find((e) => e?.name === 'RAY_AUTH_TOKEN');
  if (tokenVar === undefined) return undefined;
  const source = tokenFromEnv((n) => (n === 'RAY_AUTH_TOKEN' ? tokenVar : undefined), undefined);
  return source.kind === 'none' ? undefined : source;
}

function fromHeadEnv(container: Container | undefined): RayAuth {
  const env = asArray(container?.env)
    .map(asRecord)
    .filter((e) => e !== undefined) as EnvVar[];
  const envFrom = asArray(container?.envFrom)
    .map(asRecord)
    .filter((e) => e !== undefined);
  const byName = (n: string) => env.find((e) => e.name === n);
  const warnings: string[] = [];

  const modeVar = byName('RAY_AUTH_MODE');
  const fromEnvFrom = envFromSecret(envFrom);
  if (modeVar === undefined) {
    if (envFrom.length === 0) return { authMode: 'none', tokenSource: { kind: 'none' }, warnings };
    warnings.push(
      'the head container takes env from envFrom: Ray auth may be set there (connect probes the head)',
    );
    return { authMode: 'unknown', tokenSource: fromEnvFrom ?? { kind: 'none' }, warnings };
  }
  const mode = asString(modeVar.value);
  if (mode === undefined) {
    warnings.push('RAY_AUTH_MODE comes from a reference: connect probes the head to confirm the auth mode');
    return { authMode: 'unknown', tokenSource: tokenFromEnv(byName, fromEnvFrom), warnings };
  }
  if (mode.trim().toLowerCase() !== 'token')
    return { authMode: 'none', tokenSource: { kind: 'none' }, warnings };
  if (asString(byName('RAY_ENABLE_K8S_TOKEN_AUTH')?.value)?.toLowerCase() === 'true')
    return { authMode: 'kubernetes', tokenSource: { kind: 'kubernetes-identity' }, warnings };
  const tokenSource = tokenFromEnv(byName, fromEnvFrom);
  if (tokenSource.kind === 'none')
    warnings.push('RAY_AUTH_MODE=token but no RAY_AUTH_TOKEN or RAY_AUTH_TOKEN_PATH on the head container');
  return { authMode: 'token', tokenSource, warnings };
}

function tokenFromEnv(
  byName: (n: string) => EnvVar | undefined,
  fromEnvFrom: RayTokenSource | undefined,
): RayTokenSource {
  const tokenVar = byName('RAY_AUTH_TOKEN');
  if (tokenVar !== undefined) {
    const ref = asRecord(asRecord(tokenVar.valueFrom)?.secretKeyRef);
    const refName = asString(ref?.name);
    const refKey = asString(ref?.key);
    if (refName && refKey) return { kind: 'secret', secretName: refName, key: refKey };
    if (asString(tokenVar.value)) return { kind: 'head-env-literal' };
  }
  const path = asString(byName('RAY_AUTH_TOKEN_PATH')?.value);
  if (path) return { kind: 'head-env-file', path };
  return fromEnvFrom ?? { kind: 'none' };
}

/** envFrom a Secret: the env var `prefix + key` comes from the Secret's key `key`. */
function envFromSecret(envFrom: Record<string, unknown>[]): RayTokenSource | undefined {
  for (const source of envFrom) {
    const secretName = asString(asRecord(source.secretRef)?.name);
    const prefix = asString(source.prefix) ?? '';
    if (secretName && 'RAY_AUTH_TOKEN'.startsWith(prefix) && prefix.length < 'RAY_AUTH_TOKEN'.length)
      return { kind: 'secret', secretName, key: 'RAY_AUTH_TOKEN'.slice(prefix.length) };
  }
  return undefined;
}

/** KubeRay runs Ray in the head template's first container. */
export function headContainer(rc: RayCluster): Container | undefined {
  const template = asRecord(asRecord(asRecord(rc.spec)?.headGroupSpec)?.template);
  const first = asArray(asRecord(template?.spec)?.containers)[0];
  return asRecord(first) as Container | undefined;
}

function headImage(rc: RayCluster): string | undefined {
  return asString(asRecord(headContainer(rc))?.image);
}
