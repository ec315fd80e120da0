import { describe, expect, it } from 'vitest';
import { Redactor } from './redact';

describe('Redactor', () => {
  const r = new Redactor();
  it('removes JWTs, bearer values, TOKEN= assignments, JSON token fields and long opaque strings', () => {
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ';
    expect(r.redact(`got ${jwt} ok`)).toBe('got [REDACTED] ok');
    expect(r.redact('Authorization: Bearer abc.def-123')).toBe('Authorization: Bearer [REDACTED]');
    expect(r.redact('RAY_AUTH_TOKEN=s3cr3t RAY_ADDRESS=http://127.0.0.1:8265')).toBe(
      'RAY_AUTH_TOKEN=[REDACTED] RAY_ADDRESS=http://127.0.0.1:8265',
    );
    expect(r.redact('{"access_token":"abc","user":"alice"}')).toBe(
      '{"access_token":"[REDACTED]","user":"alice"}',
    );
    expect(r.redact('token sha256~AbCdEf123')).toBe('token [REDACTED]');
    expect(r.redact(`x ${'a1B2'.repeat(12)} y`)).toBe('x [REDACTED] y');
  });
  it('removes registered secret values of any shape', () => {
    const k = new Redactor();
    k.addSecret('short-ray-tok');
    expect(k.redact('value short-ray-tok here')).toBe('value [REDACTED] here');
  });
  it('keeps ordinary text', () => {
    expect(r.redact('connected to raycluster-rbac in team-a at http://127.0.0.1:52813')).toBe(
      'connected to raycluster-rbac in team-a at http://127.0.0.1:52813',
    );
  });
});
