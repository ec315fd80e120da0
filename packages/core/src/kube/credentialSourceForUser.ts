import { RayConnectError } from '../errors.js';
import type { Clock } from '../ports/Clock.js';
import type { Logger } from '../ports/Logger.js';
import type { Secret } from '../secret.js';
import { clientCertSource, type PemInput } from './clientCertSource.js';
import type { Credential, CredentialSource } from './credential.js';
import { execCredentialSource, type ExecClusterInfo } from './execCredentialSource.js';
import type { KubeUser, NamedEntry } from './kubeconfigTypes.js';
import { oidcAuthProviderSource } from './oidcAuthProviderSource.js';
import type { ReadTextFile } from './readTextFile.js';
import type { Spawn } from './runExecPlugin.js';
import { staticTokenSource } from './staticTokenSource.js';
import { tokenFileSource } from './tokenFileSource.js';

export interface CredentialSourceDeps {
  readFile: ReadTextFile;
  clock?: Clock;
  logger?: Logger;
  /** Environment for exec plugins. Default process.env. */
  env?: Record<string, string | undefined>;
  spawn?: Spawn;
  execTimeoutMs?: number;
  /** For exec plugins with provideClusterInfo. */
  cluster?: ExecClusterInfo;
}

/**
 * The CredentialSource for a kubeconfig user, as client-go picks it: token > tokenFile > exec > auth-provider
 * for the bearer token, plus the client certificate when one is set.
 */
export function credentialSourceForUser(
  user: NamedEntry<KubeUser>,
  deps: CredentialSourceDeps,
): CredentialSource {
  const u = user.value;
  const common = {
    ...(deps.clock ? { clock: deps.clock } : {}),
    ...(deps.logger ? { logger: deps.logger } : {}),
  };
  let bearer: CredentialSource | undefined;
  if (u.token) bearer = staticTokenSource(u.token, `kubeconfig user ${user.name} (token)`);
  else if (u.tokenFile) bearer = tokenFileSource({ path: u.tokenFile, readFile: deps.readFile, ...common });
  else if (u.exec) {
    bearer = execCredentialSource({
      exec: u.exec,
      ...common,
      ...(deps.env ? { env: deps.env } : {}),
      ...(deps.spawn ? { spawn: deps.spawn } : {}),
      ...(deps.execTimeoutMs !== undefined ? { timeoutMs: deps.execTimeoutMs } : {}),
      ...(deps.cluster ? { cluster: deps.cluster } : {}),
    });
  } else if (u.authProvider) {
    if (u.authProvider.name !== 'oidc') {
      throw new RayConnectError(
        'KUBECONFIG_INVALID',
        `auth-provider "${u.authProvider.name}" of user ${user.name} is not supported (file ${user.file})`,
        {
          fix: 'Use an exec credential plugin instead (for example gke-gcloud-auth-plugin or kubelogin), or sign in with Ray Connect.',
          details: { file: user.file, field: `users[name=${user.name}].user.auth-provider.name` },
        },
      );
    }
    bearer = oidcAuthProviderSource({ provider: u.authProvider, readFile: deps.readFile, ...common });
  } else if (u.username !== undefined || u.password !== undefined) {
    throw new RayConnectError(
      'KUBECONFIG_INVALID',
      `user ${user.name} uses username/password (basic auth), which Kubernetes no longer supports (file ${user.file})`,
      {
        fix: 'Use a token, a client certificate, or sign in with Ray Connect.',
        details: { file: user.file, field: `users[name=${user.name}].user.username` },
      },
    );
  }

  const certInput = (file: string | undefined, data: string | Secret | undefined): PemInput | undefined =>
    data ? { data } : file ? { file } : undefined;
  const cert = certInput(u.clientCertificate, u.clientCertificateData);
  const key = certInput(u.clientKey, u.clientKeyData);
  const tls =
    cert && key
      ? clientCertSource({ cert, key, readFile: deps.readFile, ...(deps.clock ? { clock: deps.clock } : {}) })
      : undefined;

  if (bearer && tls) return combined(bearer, tls);
  if (bearer) return bearer;
  if (tls) return tls;
  return { description: `kubeconfig user ${user.name} (anonymous)`, get: () => Promise.resolve({}) };
}

/** A bearer token and a client certificate presented together. */
function combined(bearer: CredentialSource, tls: CredentialSource): CredentialSource {
  return {
    description: `${bearer.description} + client certificate`,
    async get(signal) {
      const [b, t] = await Promise.all([bearer.get(signal), tls.get(signal)]);
      const c: Credential = { ...t, ...b };
      if (t.clientCert && !b.clientCert) c.clientCert = t.clientCert;
      return c;
    },
    invalidate() {
      bearer.invalidate?.();
      tls.invalidate?.();
    },
  };
}
