/**
 * Things the extension shows the user that automated tests need to see too (the device code shown in a
 * notification, the sign-in page opened in the browser). Exposed on the extension's exports; holds no secret (a
 * device user code, or an authorization URL with its PKCE challenge, is useless without the user signing in to the
 * identity provider with their own login; the PKCE verifier never leaves the core).
 */
export type HostEvent =
  | { type: 'device-code'; clusterId: string; userCode: string; verificationUri: string }
  | { type: 'browser-sign-in'; clusterId: string; url: string }
  | { type: 'signed-in'; clusterId: string; username?: string }
  | { type: 'connected'; clusterId: string; namespace: string; name: string }
  | { type: 'error'; code: string; message: string };

export class HostEvents {
  private readonly listeners = new Set<(e: HostEvent) => void>();
  readonly history: HostEvent[] = [];

  on(listener: (e: HostEvent) => void): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  emit(event: HostEvent): void {
    this.history.push(event);
    if (this.history.length > 50) this.history.shift();
    for (const l of this.listeners) l(event);
  }
}
