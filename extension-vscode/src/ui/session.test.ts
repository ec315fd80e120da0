import { describe, expect, it } from 'vitest';
import { exportLines } from './session';

describe('exportLines', () => {
  it('single-quotes values for a POSIX shell', () => {
    expect(exportLines({ RAY_ADDRESS: 'http://127.0.0.1:1', RAY_AUTH_TOKEN: "it's" })).toBe(
      "export RAY_ADDRESS='http://127.0.0.1:1'\nexport RAY_AUTH_TOKEN='it'\\''s'",
    );
  });
});
