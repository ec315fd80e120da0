import { randomUUID } from 'node:crypto';
import { rootCertificates } from 'node:tls';
import type { SignInInput, SignInProgress } from '@ray-connect/shared';
import { startBrowserSignIn } from '../auth/browserSignIn.js';
import type { SignInDeps } from '../auth/deps.js';
import { startDeviceSignIn } from '../auth/deviceSignIn.js';
import { startOpenShiftSignIn } from '../auth/openshiftSignIn.js';
import type { Session } from '../auth/session.js';
import { signInWithToken } from '../auth/tokenSignIn.js';
import { RayConnectError } from '../errors.js';
import type { KubeUser } from '../kube/kubeconfigTypes.js';
import { nodeReadTextFile } from '../kube/readTextFile.js';
import { Secret } from '../secret.js';
import type { ClusterEntry } from './clusterDirectory.js';
import type { RayConnectDeps } from './deps.js';

export interface PendingSignIn {
  clusterId: string;
  clusterName: string;
  done: Promise<Session>;
  cancel(): void;
  /** Browser sign-ins: the `state` sent to the provider, and how its redirect is handed over. */
  state?: string;
  deliver?: (callback: URL) => Promise<void>;
}

/** How long an ended flow stays findable (a late completeSignIn, a reloaded callback page). */
const ENDED_GRACE_MS = 2 * 60_000;

/** Interactive sign-ins in progress, by loginId (device code, browser redirect). */
export class SignInFlows {
  private readonly pending = new Map<string, PendingSignIn>();

  /**
   * Starts a session sign-in (device, browser, openshift, token). `kubeconfig` and `in-cluster` do not store a
   * session and are handled by the facade. A pasted token is done at once.
   */
  async begin(
    entry: ClusterEntry,
    input: SignInInput,
    signInDeps: SignInDeps,
    deps: RayConnectDeps,
    /** The API server's CA (openshift: discovery is on the API server); undefined = the system roots. */
    clusterCa?: string[],
  ): Promise<{ progress: SignInProgress; session?: Session }> {
    const clusterId = entry.id;
    const clusterName = entry.name;
    switch (input.method) {
      case 'token': {
        const session = await signInWithToken({ clusterId, token: new Secret(input.token) }, signInDeps);
        return { progress: { kind: 'done', state: { status: 'signed-in', method: 'token' } }, session };
      }
      case 'device': {
        const idp = await idpFor(entry, input, deps);
        const flow = await startDeviceSignIn({ clusterId, ...idp }, signInDeps);
        const loginId = this.add({ clusterId, clusterName, done: flow.done, cancel: flow.cancel });
        const progress: SignInProgress = {
          kind: 'device',
          loginId,
          userCode: flow.userCode,
          verificationUri: flow.verificationUri,
          expiresAt: flow.expiresAt,
          intervalSeconds: flow.interval,
        };
        if (flow.verificationUriComplete !== undefined)
          progress.verificationUriComplete = flow.verificationUriComplete;
        return { progress };
      }
      case 'browser': {
        const idp = await idpFor(entry, input, deps);
        const flow = await startBrowserSignIn(
          { clusterId, ...idp, ...(input.redirectUri !== undefined && { redirectUri: input.redirectUri }) },
          signInDeps,
        );
        return {
          progress: {
            kind: 'browser',
            loginId: this.add({ clusterId, clusterName, ...flow }),
            url: flow.url,
          },
        };
      }
      case 'openshift': {
        // Discovery is on the API server (its CA, often only in the kubeconfig), the OAuth server is usually
        // behind the ingress (system roots or the CA setting): trust both.
        const idp = await idpCa(deps);
        const ca =
          clusterCa === undefined && idp === undefined
            ? undefined
            : [...rootCertificates, ...(clusterCa ?? []), ...(idp !== undefined ? [idp] : [])];
        const flow = await startOpenShiftSignIn(
          {
            clusterId,
            server: entry.server,
            ...(ca !== undefined && { ca }),
            ...(deps.insecureSkipTlsVerify && { insecureSkipTlsVerify: true }),
            ...(input.redirectUri !== undefined && { redirectUri: input.redirectUri }),
          },
          signInDeps,
        );
        return {
          progress: {
            kind: 'browser',
            loginId: this.add({ clusterId, clusterName, ...flow }),
            url: flow.url,
            tokenRequestUrl: flow.tokenRequestUrl,
          },
        };
      }
      default:
        throw new RayConnectError('BAD_REQUEST', `Sign-in method ${input.method} is not a session sign-in`);
    }
  }

  get(loginId: string): PendingSignIn {
    const flow = this.pending.get(loginId);
    if (!flow)
      throw new RayConnectError(
        'LOGIN_NOT_FOUND',
        `No sign-in in progress with id ${loginId}: it finished, expired or was cancelled, or Ray Connect restarted.`,
        { fix: 'Start the sign-in again', details: { loginId } },
      );
    return flow;
  }

  /** The browser sign-in a provider's redirect belongs to, by the `state` it carries (and its loginId, if known). */
  forRedirect(
    callback: URL,
    loginId?: string,
  ): { loginId: string; flow: PendingSignIn; deliver: (callback: URL) => Promise<void> } {
    const state = callback.searchParams.get('state');
    const id =
      loginId ?? [...this.pending.entries()].find(([, f]) => state !== null && f.state === state)?.[0];
    const flow = id !== undefined ? this.get(id) : undefined;
    if (id === undefined || flow === undefined)
      throw new RayConnectError(
        'LOGIN_NOT_FOUND',
        'No browser sign-in in progress matches this answer from the sign-in page: it finished, expired or was cancelled, or Ray Connect restarted.',
        { fix: 'Start the sign-in again from the Ray panel.' },
      );
    const { deliver } = flow;
    if (deliver === undefined)
      throw new RayConnectError('BAD_REQUEST', 'This sign-in is not a browser sign-in.', {
        fix: 'Finish it the way it was started (the device code page).',
      });
    return { loginId: id, flow, deliver };
  }

  finish(loginId: string): void {
    this.pending.delete(loginId);
  }

  cancel(loginId: string): void {
    this.pending.get(loginId)?.cancel();
    this.pending.delete(loginId);
  }

  cancelAll(): void {
    for (const id of [...this.pending.keys()]) this.cancel(id);
  }

  private add(flow: PendingSignIn): string {
    const loginId = randomUUID();
    this.pending.set(loginId, flow);
    // Nobody may ask for the outcome (the page was closed): forget an ended flow after a while.
    const forget = () => {
      setTimeout(() => {
        if (this.pending.get(loginId) === flow) this.pending.delete(loginId);
      }, ENDED_GRACE_MS).unref();
    };
    flow.done.then(forget, forget);
    return loginId;
  }
}

/**
 * The identity provider for device/browser sign-in: the request, else what the kubeconfig user already uses
 * (kubelogin exec args `--oidc-issuer-url`/`--oidc-client-id`, auth-provider oidc), else the host's defaults.
 */
async function idpFor(
  entry: ClusterEntry,
  input: { issuer?: string; clientId?: string; scopes?: string[] },
  deps: RayConnectDeps,
) {
  const fromKube = kubeconfigIdp(entry.user);
  const issuer = input.issuer ?? fromKube.issuer ?? deps.oidc?.issuer;
  const clientId = input.clientId ?? fromKube.clientId ?? deps.oidc?.clientId;
  if (!issuer || !clientId)
    throw new RayConnectError('BAD_REQUEST', `No OIDC issuer and client id known for ${entry.name}`, {
      fix: 'Pass them: ray-connect login --device --issuer <https://issuer> --client-id <id> (or set them in the settings)',
      details: { cluster: entry.id },
    });
  const scopes = input.scopes ?? deps.oidc?.scopes;
  const ca = await idpCa(deps);
  return {
    issuer,
    clientId,
    ...(scopes !== undefined && { scopes }),
    ...(ca !== undefined && { ca }),
    ...(deps.insecureSkipTlsVerify && { insecureSkipTlsVerify: true }),
  };
}

/** PEM of the identity provider's CA: the OIDC CA file setting, else the general CA file setting. */
async function idpCa(deps: RayConnectDeps): Promise<string | undefined> {
  const file = deps.oidc?.caFile ?? deps.caFile;
  if (file === undefined) return undefined;
  try {
    return await (deps.readFile ?? nodeReadTextFile)(file);
  } catch (e) {
    throw new RayConnectError('TLS_UNTRUSTED', `Cannot read the CA file ${file}`, {
      fix: 'Check the CA file setting',
      details: { file },
      cause: e,
    });
  }
}

export function kubeconfigIdp(user: KubeUser | undefined): { issuer?: string; clientId?: string } {
  const out: { issuer?: string; clientId?: string } = {};
  if (user?.authProvider?.name === 'oidc') {
    const issuer = user.authProvider.config['idp-issuer-url'];
    const clientId = user.authProvider.config['client-id'];
    if (issuer) out.issuer = issuer;
    if (clientId) out.clientId = clientId;
  }
  const args = user?.exec?.args ?? [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    const [flag, inline] = arg.split('=', 2);
    const value = inline ?? args[i + 1];
    if (flag === '--oidc-issuer-url' && value) out.issuer ??= value;
    if (flag === '--oidc-client-id' && value) out.clientId ??= value;
  }
  return out;
}
