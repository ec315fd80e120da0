import { RayConnectError } from '../errors.js';
import type { SecretStore } from '../ports/SecretStore.js';
import { Secret } from '../secret.js';
import { clusterKey } from '../storage/keys.js';
import type { Session, SessionInfo } from './session.js';

const generations = new Map<string, number>();

/** Bumped on every save and removal in this process, so cached credentials notice a new sign-in or a sign-out. */
export function sessionGeneration(clusterId: string): number {
  return generations.get(clusterId) ?? 0;
}

function bump(clusterId: string): void {
  generations.set(clusterId, sessionGeneration(clusterId) + 1);
}

/**
 * Saves and loads the sign-in of one cluster in a SecretStore:
 * `ray-connect/<cluster>/session` (plain JSON info), `.../token`, `.../oidc/<issuer>/<client>/refresh-token`,
 * `.../client-secret`. Tokens are written before the info, so info present means the tokens are there too.
 */
export class SessionStore {
  constructor(readonly secrets: SecretStore) {}

  async load(clusterId: string): Promise<Session | undefined> {
    // Started together so a keychain store answers them with one helper process.
    const [raw, token, clientSecret] = await Promise.all([
      this.secrets.get(infoKey(clusterId)),
      this.secrets.get(clusterKey(clusterId, 'token')),
      this.secrets.get(clusterKey(clusterId, 'client-secret')),
    ]);
    if (raw === undefined) return undefined;
    let info: SessionInfo;
    try {
      info = JSON.parse(raw.reveal()) as SessionInfo;
    } catch (e) {
      throw new RayConnectError('SECRET_STORE_FAILED', `The stored sign-in of ${clusterId} is damaged.`, {
        fix: 'Sign out and sign in again.',
        cause: e,
      });
    }
    if (token === undefined) return undefined;
    const session: Session = { info, token };
    const refreshToken = info.refreshable ? await this.secrets.get(refreshTokenKey(info)) : undefined;
    if (refreshToken !== undefined) session.refreshToken = refreshToken;
    else session.info = { ...info, refreshable: false };
    if (clientSecret !== undefined) session.clientSecret = clientSecret;
    return session;
  }

  async save(session: Session): Promise<void> {
    const info: SessionInfo = { ...session.info, refreshable: session.refreshToken !== undefined };
    const id = info.clusterId;
    // Tokens first (together), then the info that points at them.
    await Promise.all([
      ...(session.refreshToken !== undefined
        ? [this.secrets.set(refreshTokenKey(info), session.refreshToken)]
        : []),
      ...(session.clientSecret !== undefined
        ? [this.secrets.set(clusterKey(id, 'client-secret'), session.clientSecret)]
        : []),
      this.secrets.set(clusterKey(id, 'token'), session.token),
    ]);
    await this.secrets.set(infoKey(id), new Secret(JSON.stringify(info)));
    bump(id);
  }

  /** Keeps the info (and its failure) but forgets the refresh token: the grant is gone. */
  async forgetRefreshToken(info: SessionInfo): Promise<void> {
    await this.secrets.delete(refreshTokenKey(info));
    await this.secrets.set(
      infoKey(info.clusterId),
      new Secret(JSON.stringify({ ...info, refreshable: false })),
    );
    bump(info.clusterId);
  }

  /** Marks an in-process change made elsewhere (sign-out). */
  static changed(clusterId: string): void {
    bump(clusterId);
  }
}

function infoKey(clusterId: string): string {
  return clusterKey(clusterId, 'session');
}

export function refreshTokenKey(info: Pick<SessionInfo, 'clusterId' | 'issuer' | 'clientId'>): string {
  return clusterKey(info.clusterId, 'oidc', info.issuer ?? '-', info.clientId ?? '-', 'refresh-token');
}
