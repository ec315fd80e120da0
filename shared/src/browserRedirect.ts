/**
 * Where a browser sign-in sends the browser back, decided by the host page: the core's loopback listener only works
 * when the browser runs on the machine of the core (the Jupyter server). A page served from elsewhere (JupyterHub,
 * a workbench) comes back to a page of its own server when the provider accepts that redirect, else device code is
 * offered with the reason.
 */

/** The server's setting (JupyterLab: RayConnectApp.browser_redirect / RAY_CONNECT_BROWSER_REDIRECT). */
export type BrowserRedirectSetting = 'auto' | 'server' | 'loopback' | 'device';

export type BrowserRedirectPlan =
  | { kind: 'loopback' }
  | { kind: 'server'; redirectUri: string }
  /** `reason`: why browser sign-in cannot finish here; a one-line message for the user. */
  | { kind: 'device'; reason: 'remote-page' | 'setting' };

/** 127.0.0.0/8, ::1 (also as ::ffff:127.x.y.z), localhost and *.localhost. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '')
    .toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  const v4 = /^(?:::ffff:)?(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(h);
  return v4 !== null && v4[1] === '127' && v4.slice(2).every((p) => Number(p) <= 255);
}

/**
 * `pageUrl`: where the page is (location.href); `callbackUrl`: the server's callback page as the browser reaches it
 * (JupyterLab: <base_url>ray-connect/oauth/callback). OpenShift has no device flow: where the server redirect is
 * off it keeps the loopback flow, whose dialog offers OpenShift's display-token page.
 */
export function planBrowserRedirect(input: {
  method: 'browser' | 'openshift';
  setting: BrowserRedirectSetting | undefined;
  pageUrl: string;
  callbackUrl: string;
}): BrowserRedirectPlan {
  const setting = input.setting ?? 'auto';
  if (setting === 'loopback') return { kind: 'loopback' };
  const local = isLoopbackHost(new URL(input.pageUrl).hostname);
  if (input.method === 'openshift')
    return !local && setting === 'server'
      ? { kind: 'server', redirectUri: input.callbackUrl }
      : { kind: 'loopback' };
  if (setting === 'device') return { kind: 'device', reason: 'setting' };
  if (local) return { kind: 'loopback' };
  return setting === 'server'
    ? { kind: 'server', redirectUri: input.callbackUrl }
    : { kind: 'device', reason: 'remote-page' };
}
