import type { CustomFetch } from 'openid-client';
import type { Dispatcher } from 'undici';
import { fetch as undiciFetch } from 'undici';
import { buildDispatcher } from '../kube/buildDispatcher.js';
import { proxyFor } from '../kube/proxyFor.js';

export interface IdpTlsOptions {
  /** PEM of the CA(s) that signed the identity provider's certificate (a bundle or a list). */
  ca?: string | Buffer | (string | Buffer)[];
  /** Security risk: skips TLS verification. A named opt-in only. */
  insecureSkipTlsVerify?: boolean;
}

/**
 * A fetch for talking to the identity provider: our CA (if any), verification on unless opted out,
 * HTTPS_PROXY / NO_PROXY honoured per URL. Passed to openid-client as its customFetch.
 */
export function idpFetch(
  tls: IdpTlsOptions = {},
  env: Record<string, string | undefined> = process.env,
): CustomFetch {
  const material = {
    rejectUnauthorized: tls.insecureSkipTlsVerify !== true,
    ...(tls.ca !== undefined ? { ca: tls.ca } : {}),
  };
  const dispatchers = new Map<string, Dispatcher>();
  return (url, options) => {
    const proxy = proxyFor(new URL(url), env);
    const key = proxy ?? '';
    let dispatcher = dispatchers.get(key);
    if (dispatcher === undefined) {
      dispatcher = buildDispatcher(material, proxy);
      dispatchers.set(key, dispatcher);
    }
    return undiciFetch(url, { ...options, dispatcher }) as unknown as Promise<Response>;
  };
}
