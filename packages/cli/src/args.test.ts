import { describe, expect, it } from 'vitest';
import { parseArgs, portFlag, UsageError } from './args.js';

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

describe('portFlag', () => {
  it('takes decimal ports only (no hex, exponent, sign or spaces)', () => {
    expect(portFlag(parseArgs(['connect', 'c', '--dashboard-port', '8265']), 'dashboard-port')).toBe(8265);
    for (const bad of ['0x50', '1e3', ' 80', '80.0', '-1', '+80', '65536', 'abc', ''])
      expect(() => portFlag(parseArgs(['connect', 'c', '--dashboard-port', bad]), 'dashboard-port')).toThrow(
        UsageError,
      );
  });
});
