import * as oidc from 'openid-client';
import { RayConnectError } from '../errors.js';
import { systemClock } from '../ports/Clock.js';
import { Secret } from '../secret.js';
import { startAuthCodeFlow } from './authCodeFlow.js';
import type { SignInDeps } from './deps.js';
import { finishSignIn } from './finishSignIn.js';
import type { IdpTlsOptions } from './http.js';
import { idpFetch } from './http.js';
import { mapIdpError } from './idpErrors.js';
import type { Session } from './session.js';

export const OPENSHIFT_CLI_CLIENT = 'openshift-cli-client';

/** `ca` must trust both the API server (where discovery is) and the OAuth server (often the ingress CA): pass a list. */
export interface OpenShiftSignInInput extends IdpTlsOptions {
  clusterId: string;
  /** The API server URL, e.g. https://api.cluster.example:6443. */
  server: string;
  /** Give up after this long. Default 5 minutes. */
  timeoutMs?: number;
  /** Aborting it cancels the sign-in, like cancel(). */
  signal?: AbortSignal;
  /** A redirect URI that is not our loopback listener (its OAuthClient must list it); see AuthCodeFlow.deliver. */
  redirectUri?: string;
  /** Allows an http: OAuth server (tests against a local fake only). */
  allowInsecureRequests?: boolean;
  fetch?: oidc.CustomFetch;
}

export interface OpenShiftSignIn {
  url: string;
  /** The "display token" page: if the browser flow cannot work, the user gets a token there and pastes it. */
  tokenRequestUrl: string;
  state: string;
  done: Promise<Session>;
  deliver(callback: URL): Promise<void>;
  cancel(): void;
}

/**
 * OpenShift OAuth like `oc login --web`: discovery at `<api>/.well-known/oauth-authorization-server`, client
 * `openshift-cli-client`, PKCE, loopback redirect (or the host's `redirectUri`). The token is opaque (`sha256~...`, no id_token), so the
 * identity comes from the API server. Needs deps.verifyIdentity.
 */
export async function startOpenShiftSignIn(
  input: OpenShiftSignInInput,
  deps: SignInDeps,
): Promise<OpenShiftSignIn> {
  if (deps.verifyIdentity === undefined)
    throw new TypeError('startOpenShiftSignIn needs deps.verifyIdentity');
  const clock = deps.clock ?? systemClock;
  const { config, issuer } = await discoverOpenShiftOAuth(input);
  const flow = await startAuthCodeFlow({
    config,
    issuer,
    oidc: false,
    parameters: { scope: 'user:full' },
    ...(input.timeoutMs !== undefined ? { timeoutMs: input.timeoutMs } : {}),
    ...(input.redirectUri !== undefined ? { redirectUri: input.redirectUri } : {}),
  });
  input.signal?.addEventListener('abort', () => flow.cancel(), { once: true });
  if (input.signal?.aborted) flow.cancel();
  const done = flow.tokens.then((tokens) =>
    finishSignIn(
      {
        info: {
          clusterId: input.clusterId,
          method: 'openshift',
          issuer,
          clientId: OPENSHIFT_CLI_CLIENT,
          ...(tokens.expires_in !== undefined ? { expiresAt: clock.now() + tokens.expires_in * 1000 } : {}),
        },
        token: new Secret(tokens.access_token),
      },
      deps,
    ),
  );
  done.catch(() => undefined);
  if (deps.browser !== undefined && input.redirectUri === undefined) await deps.browser.open(flow.url);
  return {
    url: flow.url,
    tokenRequestUrl: openShiftTokenRequestUrl(issuer),
    state: flow.state,
    done,
    deliver: flow.deliver,
    cancel: flow.cancel,
  };
}

/** `<oauth server>/oauth/token/request`: the page that shows a token to paste (then use signInWithToken). */
export function openShiftTokenRequestUrl(oauthIssuer: string): string {
  return new URL('/oauth/token/request', oauthIssuer).href;
}

const NOT_OPENSHIFT = new Set([401, 403, 404]);

/** Reads `<api>/.well-known/oauth-authorization-server` (served by the OpenShift API server). */
export async function discoverOpenShiftOAuth(
  input: OpenShiftSignInInput,
): Promise<{ config: oidc.Configuration; issuer: string }> {
  const fetch = input.fetch ?? idpFetch(input);
  const where = new URL('/.well-known/oauth-authorization-server', input.server).href;
  let metadata: oidc.ServerMetadata;
  try {
    const response = await fetch(where, {
      method: 'GET',
      headers: { accept: 'application/json' },
      body: undefined,
      redirect: 'manual',
    });
    // OpenShift serves this path to anyone. A plain Kubernetes API server answers 404, or 401/403 when
    // anonymous requests are disabled or not allowed to read non-resource paths (the default RBAC).
    if (NOT_OPENSHIFT.has(response.status)) {
      throw new RayConnectError(
        'IDP_ERROR',
        `${input.server} has no OpenShift OAuth server (${where} answered ${response.status}).`,
        {
          fix: 'This is not an OpenShift cluster: sign in another way.',
          details: { url: where, status: response.status },
        },
      );
    }
    if (!response.ok)
      throw new RayConnectError('IDP_ERROR', `${where} answered HTTP ${response.status}.`, {
        details: { url: where },
      });
    metadata = (await response.json()) as oidc.ServerMetadata;
  } catch (e) {
    throw mapIdpError(e, input.server, 'Finding the OpenShift OAuth server');
  }
  if (
    typeof metadata.issuer !== 'string' ||
    typeof metadata.authorization_endpoint !== 'string' ||
    typeof metadata.token_endpoint !== 'string'
  ) {
    throw new RayConnectError(
      'IDP_ERROR',
      `${where} is not OAuth server metadata (issuer, authorization_endpoint, token_endpoint).`,
      { details: { url: where } },
    );
  }
  const config = new oidc.Configuration(metadata, OPENSHIFT_CLI_CLIENT, undefined, oidc.None());
  config[oidc.customFetch] = fetch;
  if (input.allowInsecureRequests === true && new URL(metadata.issuer).protocol === 'http:')
    oidc.allowInsecureRequests(config);
  return { config, issuer: metadata.issuer };
}
