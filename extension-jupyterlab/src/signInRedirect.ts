import { PageConfig, URLExt } from '@jupyterlab/coreutils';
import type { TranslationBundle } from '@jupyterlab/translation';
import { planBrowserRedirect, type BrowserRedirectSetting, type SignInInput } from '@ray-connect/shared';
import { offerDeviceCode } from './dialogs.js';

/** This server's OAuth callback page as the browser reaches it (under the base URL, behind Jupyter's auth). */
export function callbackUrl(): string {
  return new URL(URLExt.join(PageConfig.getBaseUrl(), 'ray-connect/oauth/callback'), window.location.href)
    .href;
}

/**
 * Browser and OpenShift sign-in: where the browser comes back (see planBrowserRedirect). Returns the input to
 * start (with the server's callback as redirectUri when that is the way), 'device' when the user took device code
 * instead, undefined when they cancelled. Other methods pass through.
 */
export async function withBrowserRedirect(
  input: SignInInput,
  setting: BrowserRedirectSetting | undefined,
  trans: TranslationBundle,
): Promise<SignInInput | 'device' | undefined> {
  if (input.method !== 'browser' && input.method !== 'openshift') return input;
  const plan = planBrowserRedirect({
    method: input.method,
    setting,
    pageUrl: window.location.href,
    callbackUrl: callbackUrl(),
  });
  if (plan.kind === 'loopback') return input;
  if (plan.kind === 'server') return { ...input, redirectUri: plan.redirectUri };
  const reason =
    plan.reason === 'setting'
      ? trans.__(
          'This Jupyter server is set to sign in with device code (RayConnectApp.browser_redirect = "device").',
        )
      : trans.__(
          'Browser sign-in cannot finish here: this page is not on the Jupyter server\'s machine, and sign-in back through this server is off (an admin can set RayConnectApp.browser_redirect = "server" once the identity provider lists %1).',
          callbackUrl(),
        );
  return (await offerDeviceCode(reason, trans)) ? 'device' : undefined;
}
