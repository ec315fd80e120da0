import type { SignInState } from '@ray-connect/shared';
import { signInStateOf } from '../auth/session.js';
import type { SessionStore } from '../auth/sessionStore.js';
import { isRayConnectError } from '../errors.js';
import type { KubeIdentity } from '../ports/KubeClient.js';
import type { ClusterEntry } from './clusterDirectory.js';
import type { ConfigState } from './configState.js';

/**
 * How a cluster is signed in to, without a network call: a stored session (device, browser, openshift, token)
 * unless the user chose the kubeconfig's own credentials; else the kubeconfig user / service account, if it has any.
 */
export async function clusterSignInState(
  entry: ClusterEntry,
  state: ConfigState,
  sessions: SessionStore,
  identity: KubeIdentity | undefined,
  now: number,
): Promise<SignInState> {
  const method = state.methods[entry.id];
  if (method !== 'kubeconfig' && method !== 'in-cluster') {
    try {
      const session = await sessions.load(entry.id);
      if (session !== undefined) return signInStateOf(session.info, now);
    } catch (e) {
      return {
        status: 'error',
        error: isRayConnectError(e) ? e.toInfo() : { code: 'SECRET_STORE_FAILED', message: String(e) },
      };
    }
  }
  if (!entry.ownCredentials) return { status: 'signed-out' };
  const own: SignInState = {
    status: 'signed-in',
    method: entry.source === 'in-cluster' ? 'in-cluster' : 'kubeconfig',
  };
  if (identity !== undefined) own.identity = { username: identity.username, groups: [...identity.groups] };
  return own;
}
