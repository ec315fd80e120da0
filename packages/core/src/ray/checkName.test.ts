import { describe, expect, it } from 'vitest';
import { checkName } from './checkName.js';

describe('checkName (KubeRay utils.CheckName)', () => {
  it('keeps short names', () => {
    expect(checkName('raycluster-token')).toBe('raycluster-token');
  });
  it('keeps the last 50 characters of long names', () => {
    const name = 'a'.repeat(10) + 'b'.repeat(50);
    expect(checkName(name)).toBe('b'.repeat(50));
    expect(checkName('x'.repeat(50))).toBe('x'.repeat(50));
  });
  it('replaces a leading digit or punctuation with r', () => {
    expect(checkName('1abc')).toBe('rabc');
    expect(checkName('-abc')).toBe('rabc');
    expect(checkName('.abc')).toBe('rabc');
    const long = 'raycluster-' + '9'.repeat(49);
    expect(checkName(long)).toBe('r' + '9'.repeat(49));
  });
  it('does not touch names starting with a letter, or an empty name', () => {
    expect(checkName('Zed')).toBe('Zed');
    expect(checkName('')).toBe('');
  });
});
