/**
 * Things the extension shows the user that automated tests need to see too (the device code shown in a
 * notification). Exposed on the extension's exports; holds no secret (a device user code is useless without the
 * user approving it with their own identity-provider login).
 */
export type HostEvent =
  | { type: 'device-code'; clusterId: string; userCode: string; verificationUri: string }
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
