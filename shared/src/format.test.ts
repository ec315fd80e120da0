import { describe, expect, it } from 'vitest';
import { defaultTranslate, expiryState, formatDuration, formatExpiry } from './format.js';

const NOW = 1_700_000_000_000;
const MIN = 60_000;

describe('formatDuration', () => {
  it('uses the largest units', () => {
    expect(formatDuration(45_000)).toBe('45s');
    expect(formatDuration(52 * MIN + 30_000)).toBe('52m');
    expect(formatDuration(65 * MIN)).toBe('1h 5m');
    expect(formatDuration(120 * MIN)).toBe('2h');
    expect(formatDuration(50 * 60 * MIN)).toBe('2d 2h');
    expect(formatDuration(-5)).toBe('0s');
  });
});

describe('formatExpiry', () => {
  it('says how long is left, or how long ago it expired', () => {
    expect(formatExpiry(NOW + 52 * MIN, NOW)).toBe('expires in 52m');
    expect(formatExpiry(NOW - 3 * MIN, NOW)).toBe('expired 3m ago');
    expect(formatExpiry(undefined, NOW)).toBe('');
  });
  it('goes through the host translator', () => {
    const t = (s: string, ...a: (string | number)[]) => defaultTranslate(`<${s}>`, ...a);
    expect(formatExpiry(NOW + 2 * MIN, NOW, t)).toBe('<expires in 2m>');
  });
});

describe('expiryState', () => {
  it('warns under five minutes', () => {
    expect(expiryState(undefined, NOW)).toBe('none');
    expect(expiryState(NOW + 10 * MIN, NOW)).toBe('valid');
    expect(expiryState(NOW + 4 * MIN, NOW)).toBe('expiring-soon');
    expect(expiryState(NOW, NOW)).toBe('expired');
  });
});

describe('defaultTranslate', () => {
  it('fills placeholders and leaves unknown ones', () => {
    expect(defaultTranslate('{0} and {1} and {2}', 'a', 2)).toBe('a and 2 and {2}');
  });
});
