import * as oidc from 'openid-client';
import { RayConnectError } from '../errors.js';
import { systemClock } from '../ports/Clock.js';
import { Secret } from '../secret.js';
import type { SignInDeps } from './deps.js';
import { finishSignIn } from './finishSignIn.js';
import type { IdpSettings } from './idp.js';
import { DEFAULT_SCOPES, discoverIdp, idpInfo } from './idp.js';
import { mapIdpError } from './idpErrors.js';
import type { Session } from './session.js';

export interface DeviceSignInInput extends IdpSettings {
  clusterId: string;
  scopes?: string[];
  /** Aborting it cancels the sign-in, like cancel(). */
  signal?: AbortSignal;
}

/** A device sign-in in progress: show the code and URL; `done` settles when approved, denied, expired or cancelled. */
export interface DeviceSignIn {
  userCode: string;
  verificationUri: string;
  verificationUriComplete?: string;
  /** Epoch ms when the code expires. */
  expiresAt: number;
  /** Seconds between polls, as the provider asked. */
  interval: number;
  done: Promise<Session>;
  cancel(): void;
}

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

/**
 * OIDC device authorization grant (RFC 8628): asks for a user code, then polls the token endpoint at the
 * provider's interval (5 s more after each slow_down) until approved; an unreachable provider is polled again
 * (a network blip must not end the sign-in) until the code expires. Expiry -> DEVICE_CODE_EXPIRED (IDP_UNREACHABLE
 * when the last poll could not reach the provider),
 * cancel() -> LOGIN_CANCELLED. The id_token becomes the Kubernetes credential.
 */
export async function startDeviceSignIn(input: DeviceSignInInput, deps: SignInDeps): Promise<DeviceSignIn> {
  const clock = deps.clock ?? systemClock;
  const config = await discoverIdp(input);
  const scopes = input.scopes ?? DEFAULT_SCOPES;
  let response: oidc.DeviceAuthorizationResponse;
  try {
    response = await oidc.initiateDeviceAuthorization(config, { scope: scopes.join(' '), prompt: 'consent' });
  } catch (e) {
    throw mapIdpError(e, input.issuer, 'Starting the device sign-in');
  }
  const expiresAt = clock.now() + response.expires_in * 1000;
  const interval = response.interval ?? 5;
  const abort = new AbortController();
  deps.logger?.info('Device sign-in started', {
    issuer: input.issuer,
    verificationUri: response.verification_uri,
    expiresAt,
  });

  let unreachable: RayConnectError | undefined;
  const poll = async (): Promise<Session> => {
    let wait = interval;
    for (;;) {
      await sleepOrCancel(clock, wait * 1000, abort.signal);
      if (clock.now() >= expiresAt) throw expired(unreachable);
      let tokens: oidc.TokenEndpointResponse;
      try {
        tokens = await oidc.genericGrantRequest(config, DEVICE_GRANT, {
          device_code: response.device_code,
        });
      } catch (e) {
        if (e instanceof oidc.ResponseBodyError && e.error === 'authorization_pending') continue;
        if (e instanceof oidc.ResponseBodyError && e.error === 'slow_down') {
          wait += 5;
          continue;
        }
        if (abort.signal.aborted) throw cancelled();
        const error = mapIdpError(e, input.issuer, 'Signing in with the device code');
        if (error.code === 'IDP_UNREACHABLE') {
          // A network blip while the user approves must not end the sign-in: keep polling until the code expires.
          unreachable = error;
          deps.logger?.warn('Cannot reach the identity provider; polling again', {
            issuer: input.issuer,
            reason: error.message,
          });
          continue;
        }
        throw error;
      }
      try {
        return await finish(tokens);
      } catch (e) {
        if (abort.signal.aborted) throw cancelled();
        throw mapIdpError(e, input.issuer, 'Signing in with the device code');
      }
    }
  };

  const finish = async (tokens: oidc.TokenEndpointResponse): Promise<Session> => {
    if (tokens.id_token === undefined) {
      throw new RayConnectError(
        'IDP_ERROR',
        `${input.issuer} returned no id_token; the scopes must include "openid".`,
        { details: { issuer: input.issuer } },
      );
    }
    return finishSignIn(
      {
        info: idpInfo(input, 'device', scopes),
        token: new Secret(tokens.id_token),
        ...(tokens.refresh_token !== undefined ? { refreshToken: new Secret(tokens.refresh_token) } : {}),
        ...(input.clientSecret !== undefined ? { clientSecret: input.clientSecret } : {}),
      },
      deps,
      abort.signal,
    );
  };

  input.signal?.addEventListener('abort', () => abort.abort(cancelled()), { once: true });
  if (input.signal?.aborted) abort.abort(cancelled());
  const done = poll();
  done.catch(() => undefined);
  const result: DeviceSignIn = {
    userCode: response.user_code,
    verificationUri: response.verification_uri,
    expiresAt,
    interval,
    done,
    cancel: () => abort.abort(cancelled()),
  };
  if (response.verification_uri_complete !== undefined)
    result.verificationUriComplete = response.verification_uri_complete;
  return result;
}

async function sleepOrCancel(
  clock: { sleep(ms: number, signal?: AbortSignal): Promise<void> },
  ms: number,
  signal: AbortSignal,
) {
  try {
    await clock.sleep(ms, signal);
  } catch {
    throw cancelled();
  }
  if (signal.aborted) throw cancelled();
}

function cancelled(): RayConnectError {
  return new RayConnectError('LOGIN_CANCELLED', 'The sign-in was cancelled.');
}

function expired(unreachable?: RayConnectError): RayConnectError {
  // The provider was unreachable at the last poll: say so, not only that the code expired.
  if (unreachable !== undefined) return unreachable;
  return new RayConnectError('DEVICE_CODE_EXPIRED', 'The device code expired before it was approved.', {
    fix: 'Start the sign-in again and enter the new code.',
  });
}
