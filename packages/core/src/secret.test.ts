import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { Secret } from './secret.js';

describe('Secret', () => {
  it('never prints its value', () => {
    const s = new Secret('tok-123');
    expect(String(s)).toBe('[REDACTED]');
    expect(`${s}`).toBe('[REDACTED]');
    expect(JSON.stringify({ s })).toBe('{"s":"[REDACTED]"}');
    expect(inspect(s)).not.toContain('tok-123');
    expect(Object.keys(s)).toEqual([]);
    expect(s.reveal()).toBe('tok-123');
  });
});
