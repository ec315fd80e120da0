import { describe, expect, it } from 'vitest';
import { kernelEnvCode } from './kernelCode';

describe('kernelEnvCode', () => {
  it('sets and unsets with a dict literal', () => {
    expect(
      kernelEnvCode({ RAY_ADDRESS: 'http://127.0.0.1:1', RAY_AUTH_TOKEN: 'a\'b"c' }, ['RAY_AUTH_TOKEN_PATH']),
    ).toBe(
      [
        'import os as _rc_os',
        `_rc_os.environ.update({"RAY_ADDRESS":"http://127.0.0.1:1","RAY_AUTH_TOKEN":"a'b\\"c"})`,
        `for _rc_k in ["RAY_AUTH_TOKEN_PATH"]: _rc_os.environ.pop(_rc_k, None)`,
        'del _rc_os',
      ].join('\n'),
    );
  });
  it('refuses names that are not env names', () => {
    expect(() => kernelEnvCode({ 'A;import x': 'v' })).toThrow(/not an environment variable name/);
  });
});
