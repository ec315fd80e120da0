import { describe, expect, it } from 'vitest';
import { parseArgs, UsageError } from './args.js';

describe('parseArgs', () => {
  it('parses commands, positionals, flags and values', () => {
    const a = parseArgs(['connect', 'rc', '-n', 'ns', '--context=kind', '--json']);
    expect(a.command).toBe('connect');
    expect(a.positionals).toEqual(['rc']);
    expect(a.flags.get('namespace')).toBe('ns');
    expect(a.flags.get('context')).toBe('kind');
    expect(a.flags.get('json')).toBe(true);
  });
  it('refuses a token in argv', () => {
    expect(() => parseArgs(['login', '--token', 'abc'])).toThrow(UsageError);
    expect(() => parseArgs(['login', '--token=abc'])).toThrow(/never passed in argv/);
  });
  it('needs values for value options', () => {
    expect(() => parseArgs(['clusters', '--namespace'])).toThrow(/needs a value/);
  });
});
