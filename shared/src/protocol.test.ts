import { describe, expect, it } from 'vitest';
import { httpStatusFor } from './protocol.js';

describe('httpStatusFor', () => {
  it('a taken local port is a conflict (409), not a server error', () => {
    expect(httpStatusFor('PORT_IN_USE')).toBe(409);
    expect(httpStatusFor('INTERNAL')).toBe(500);
  });
});
