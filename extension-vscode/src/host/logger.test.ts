import { describe, expect, it } from 'vitest';
import { Secret } from '@ray-connect/core';
import { ChannelLogger } from './logger';
import { Redactor } from './redact';

function channel() {
  const lines: string[] = [];
  const w = (level: string) => (m: string) => lines.push(`${level} ${m}`);
  return { lines, trace: w('trace'), debug: w('debug'), info: w('info'), warn: w('warn'), error: w('error') };
}

describe('ChannelLogger', () => {
  it('filters by level and redacts messages and fields', () => {
    const c = channel();
    const log = new ChannelLogger(c, new Redactor(), 'info');
    log.debug('hidden');
    log.info('token RAY_AUTH_TOKEN=abc', { secret: new Secret('xyz-secret-value'), user: 'alice' });
    expect(c.lines).toEqual(['info token RAY_AUTH_TOKEN=[REDACTED] {"secret":"[REDACTED]","user":"alice"}']);
    log.level = 'debug';
    log.debug('shown');
    expect(c.lines[1]).toBe('debug shown');
  });
});
