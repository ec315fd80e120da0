/**
 * Words and times, editor-neutral. Every user-facing string in shared/ goes through a `Translate` function the host
 * supplies (VS Code: `vscode.l10n.t`; JupyterLab: `trans.__` with `{0}` turned into `%1`). Templates use `{0}`, `{1}`.
 */
export type Translate = (template: string, ...args: (string | number)[]) => string;

/** Substitutes `{0}`, `{1}`... Used when the host has no translator (tests, CLI). */
export const defaultTranslate: Translate = (template, ...args) =>
  template.replace(/\{(\d+)\}/g, (whole, index: string) => {
    const value = args[Number(index)];
    return value === undefined ? whole : String(value);
  });

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** A short duration: "45s", "52m", "1h 5m", "3d 2h". Rounds down; never negative. */
export function formatDuration(ms: number): string {
  const v = Math.max(0, ms);
  if (v < MINUTE) return `${Math.floor(v / 1000)}s`;
  if (v < HOUR) return `${Math.floor(v / MINUTE)}m`;
  if (v < DAY) {
    const h = Math.floor(v / HOUR);
    const m = Math.floor((v % HOUR) / MINUTE);
    return m ? `${h}h ${m}m` : `${h}h`;
  }
  const d = Math.floor(v / DAY);
  const h = Math.floor((v % DAY) / HOUR);
  return h ? `${d}d ${h}h` : `${d}d`;
}

/** Under this much time left, a credential counts as "expiring soon" (warning colour). */
export const EXPIRING_SOON_MS = 5 * MINUTE;

export type ExpiryState = 'none' | 'valid' | 'expiring-soon' | 'expired';

export function expiryState(expiresAt: number | undefined, now: number): ExpiryState {
  if (expiresAt === undefined) return 'none';
  const left = expiresAt - now;
  if (left <= 0) return 'expired';
  if (left < EXPIRING_SOON_MS) return 'expiring-soon';
  return 'valid';
}

/** "expires in 52m" / "expired 3m ago" / "" when unknown. `now` is injectable for tests. */
export function formatExpiry(
  expiresAt: number | undefined,
  now: number,
  t: Translate = defaultTranslate,
): string {
  if (expiresAt === undefined) return '';
  const left = expiresAt - now;
  if (left <= 0) return t('expired {0} ago', formatDuration(-left));
  return t('expires in {0}', formatDuration(left));
}
