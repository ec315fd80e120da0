import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { formatEnv } from './formatEnv.js';

const env = {
  RAY_AUTH_MODE: 'token',
  RAY_AUTH_TOKEN: 'a+b/c=d\'e$f"g',
  RAY_ADDRESS: 'http://127.0.0.1:1234',
};

describe('formatEnv', () => {
  it('sh output survives eval with every character intact', () => {
    const script = `${formatEnv(env, 'sh')}printf '%s' "$RAY_AUTH_TOKEN"`;
    expect(execFileSync('sh', ['-c', script]).toString()).toBe(env.RAY_AUTH_TOKEN);
  });
  it('json, dotenv, fish, powershell', () => {
    expect(JSON.parse(formatEnv(env, 'json'))).toEqual(env);
    expect(formatEnv(env, 'dotenv')).toContain('RAY_AUTH_TOKEN="a+b/c=d\'e\\$f\\"g"');
    expect(formatEnv(env, 'fish')).toContain("set -gx RAY_AUTH_MODE 'token';");
    expect(formatEnv(env, 'powershell')).toContain("$env:RAY_AUTH_TOKEN = 'a+b/c=d''e$f\"g'");
  });
});
