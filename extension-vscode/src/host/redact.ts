/**
 * Removes anything token-shaped from text bound for the log: JWTs, bearer values, `RAY_AUTH_TOKEN=...`,
 * `"token": "..."`, OpenShift `sha256~` tokens, long opaque strings, and every value registered as secret.
 */
const PATTERNS: RegExp[] = [
  /eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g,
  /sha256~[A-Za-z0-9_-]+/g,
  /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi,
  /\b([A-Z0-9_]*(TOKEN|SECRET|PASSWORD)[A-Z0-9_]*)=("[^"]*"|'[^']*'|\S+)/g,
  /("(?:[a-z_]*token|access_token|refresh_token|id_token|password|secret|client_secret)"\s*:\s*)"[^"]*"/gi,
  /\b[A-Za-z0-9+/_-]{40,}={0,2}/g,
];

export const REDACTED = '[REDACTED]';

export class Redactor {
  private readonly known = new Set<string>();

  /** Values that must never appear in the log, whatever their shape (e.g. a Ray token we injected). */
  addSecret(value: string): void {
    if (value.length >= 6) this.known.add(value);
  }

  removeSecret(value: string): void {
    this.known.delete(value);
  }

  redact(text: string): string {
    let out = text;
    for (const v of this.known) out = out.split(v).join(REDACTED);
    out = out
      .replace(PATTERNS[0]!, REDACTED)
      .replace(PATTERNS[1]!, REDACTED)
      .replace(PATTERNS[2]!, (_m, scheme: string) => `${scheme} ${REDACTED}`)
      .replace(PATTERNS[3]!, (_m, name: string) => `${name}=${REDACTED}`)
      .replace(PATTERNS[4]!, (_m, key: string) => `${key}"${REDACTED}"`)
      .replace(PATTERNS[5]!, REDACTED);
    return out;
  }
}
