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
}

/** A browser sign-in in progress: open `url` (done for you when deps.browser is given); `done` settles on the redirect. */
export interface BrowserSignIn {
  url: string;
  done: Promise<Session>;
  cancel(): void;
}

/**
 * OIDC authorization code + PKCE with a loopback redirect on 127.0.0.1 (random port; state and nonce checked).
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
  deps.logger?.info('Browser sign-in started', { issuer: input.issuer });
  if (deps.browser !== undefined) await deps.browser.open(flow.url);
  return { url: flow.url, done, cancel: flow.cancel };
}
