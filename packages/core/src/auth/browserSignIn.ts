import { RayConnectError } from '../errors.js';
import { Secret } from '../secret.js';
import { startAuthCodeFlow } from './authCodeFlow.js';
import type { SignInDeps } from './deps.js';
import { finishSignIn } from './finishSignIn.js';
import type { IdpSettings } from './idp.js';
import { DEFAULT_SCOPES, discoverIdp, idpInfo } from './idp.js';
import type { Session } from './session.js';

export interface BrowserSignInInput extends IdpSettings {
  clusterId: string;
  scopes?: string[];
  /** Give up after this long. Default 5 minutes. */
  timeoutMs?: number;
  /** Aborting it cancels the sign-in, like cancel(). */
  signal?: AbortSignal;
  /** A redirect URI that is not our loopback listener: the host hands the redirect over with `deliver`. */
  redirectUri?: string;
}

/** A browser sign-in in progress: open `url` (done for you when deps.browser is given); `done` settles on the redirect. */
export interface BrowserSignIn {
  url: string;
  /** The `state` the provider sends back: which flow a redirect belongs to. */
  state: string;
  done: Promise<Session>;
  /** Hands over the provider's redirect (see AuthCodeFlow.deliver); `done` then settles. */
  deliver(callback: URL): Promise<void>;
  cancel(): void;
}

/**
 * OIDC authorization code + PKCE with a loopback redirect on 127.0.0.1 (random port; state and nonce checked), or
 * with the host's own redirect URI (`redirectUri`: the host calls `deliver` with the redirect).
 * Asks for `prompt=consent` so the provider grants offline_access (a refresh token).
 */
export async function startBrowserSignIn(
  input: BrowserSignInInput,
  deps: SignInDeps,
): Promise<BrowserSignIn> {
  const config = await discoverIdp(input);
  const scopes = input.scopes ?? DEFAULT_SCOPES;
  const flow = await startAuthCodeFlow({
    config,
    issuer: input.issuer,
    oidc: true,
    parameters: { scope: scopes.join(' '), prompt: 'consent' },
    ...(input.timeoutMs !== undefined ? { timeoutMs: input.timeoutMs } : {}),
    ...(input.redirectUri !== undefined ? { redirectUri: input.redirectUri } : {}),
  });
  input.signal?.addEventListener('abort', () => flow.cancel(), { once: true });
  if (input.signal?.aborted) flow.cancel();
  const done = flow.tokens.then((tokens) => {
    if (tokens.id_token === undefined) {
      throw new RayConnectError(
        'IDP_ERROR',
        `${input.issuer} returned no id_token; the scopes must include "openid".`,
        { details: { issuer: input.issuer } },
      );
    }
    return finishSignIn(
      {
        info: idpInfo(input, 'browser', scopes),
        token: new Secret(tokens.id_token),
        ...(tokens.refresh_token !== undefined ? { refreshToken: new Secret(tokens.refresh_token) } : {}),
        ...(input.clientSecret !== undefined ? { clientSecret: input.clientSecret } : {}),
      },
      deps,
    );
  });
  done.catch(() => undefined);
  deps.logger?.info('Browser sign-in started', {
    issuer: input.issuer,
    redirect: input.redirectUri === undefined ? 'loopback' : 'host',
  });
  // A host redirect means the host's page opens the sign-in page itself (the browser is elsewhere).
  if (deps.browser !== undefined && input.redirectUri === undefined) await deps.browser.open(flow.url);
  return { url: flow.url, state: flow.state, done, deliver: flow.deliver, cancel: flow.cancel };
}
