import { RayConnectError } from '../errors.js';
import type { Clock } from '../ports/Clock.js';
import { systemClock } from '../ports/Clock.js';
import type { Logger } from '../ports/Logger.js';
import { silentLogger } from '../ports/Logger.js';
import { Secret } from '../secret.js';
import type { Credential, CredentialSource } from './credential.js';
import type { KubeAuthProvider } from './kubeconfigTypes.js';
import { jwtExpiry } from './jwtExpiry.js';
import type { ReadTextFile } from './readTextFile.js';
import { refreshAuthProviderToken, type RefreshAuthProviderToken } from './refreshAuthProviderToken.js';

export interface OidcAuthProviderSourceOptions {
  /** The kubeconfig `auth-provider` (config: idp-issuer-url, client-id, ...; secrets: id-token, refresh-token, client-secret). */
  provider: KubeAuthProvider;
  readFile: ReadTextFile;
  clock?: Clock;
  logger?: Logger;
  /** Refresh this long before the id-token's exp. Default 10 s. */
  renewBeforeMs?: number;
  refresh?: RefreshAuthProviderToken;
  /** Called with rotated tokens so a caller may persist them (we never write the kubeconfig). */
  onRefreshed?: (tokens: { idToken: Secret; refreshToken?: Secret }) => void;
}

/**
 * kubeconfig `auth-provider: oidc`: the id-token while its JWT exp is in the future, else one refresh_token grant
 * (our own code: client-node's is broken). Concurrent callers share one refresh. Rotated tokens are kept in memory.
 */
export function oidcAuthProviderSource(options: OidcAuthProviderSourceOptions): CredentialSource {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const renewBeforeMs = options.renewBeforeMs ?? 10_000;
  const c = options.provider.config;
  const secrets = options.provider.secrets;
  const issuer = c['idp-issuer-url'];
  const clientId = c['client-id'];
  let idToken = secrets['id-token'];
  let refreshToken = secrets['refresh-token'];
  let rejected = false;
  let running: Promise<Credential> | undefined;

  const current = (): Credential | undefined => {
    if (!idToken || rejected) return undefined;
    const exp = jwtExpiry(idToken.reveal());
    if (exp !== undefined && clock.now() >= exp - renewBeforeMs) return undefined;
    return exp === undefined ? { token: idToken } : { token: idToken, expiresAt: exp };
  };

  const refresh = async (): Promise<Credential> => {
    if (!refreshToken || !issuer || !clientId) {
      const missing = [
        !refreshToken && 'refresh-token',
        !issuer && 'idp-issuer-url',
        !clientId && 'client-id',
      ]
        .filter(Boolean)
        .join(', ');
      throw new RayConnectError(
        'TOKEN_EXPIRED',
        `The kubeconfig oidc id-token has expired and cannot be refreshed (missing ${missing}).`,
        {
          fix: 'Sign in again with your identity provider tool (for example kubectl oidc-login), or sign in with Ray Connect.',
          details: { missing },
        },
      );
    }
    const ca = await idpCa();
    logger.debug('refreshing the kubeconfig oidc id-token', { issuer });
    const tokens = await (options.refresh ?? refreshAuthProviderToken)({
      issuer,
      clientId,
      refreshToken,
      ...(secrets['client-secret'] ? { clientSecret: secrets['client-secret'] } : {}),
      ...(ca !== undefined ? { ca } : {}),
    });
    idToken = new Secret(tokens.idToken);
    if (tokens.refreshToken) refreshToken = new Secret(tokens.refreshToken);
    rejected = false;
    options.onRefreshed?.({ idToken, ...(tokens.refreshToken ? { refreshToken } : {}) });
    const exp = jwtExpiry(tokens.idToken);
    return exp === undefined ? { token: idToken } : { token: idToken, expiresAt: exp };
  };

  const idpCa = async (): Promise<string | undefined> => {
    if (c['idp-certificate-authority-data'])
      return Buffer.from(c['idp-certificate-authority-data'], 'base64').toString('utf8');
    const file = c['idp-certificate-authority'];
    if (!file) return undefined;
    try {
      return await options.readFile(file);
    } catch (e) {
      throw new RayConnectError(
        'KUBECONFIG_INVALID',
        `Cannot read idp-certificate-authority ${file} (${(e as { code?: string }).code ?? 'read failed'}).`,
        {
          fix: `Check that ${file} exists and is readable.`,
          details: { file, field: 'auth-provider.config.idp-certificate-authority' },
          cause: e,
        },
      );
    }
  };

  return {
    description: `auth-provider oidc${issuer ? ` (${issuer})` : ''}`,
    get() {
      const now = current();
      if (now) return Promise.resolve(now);
      running ??= refresh().finally(() => {
        running = undefined;
      });
      return running;
    },
    invalidate() {
      rejected = true;
    },
  };
}
