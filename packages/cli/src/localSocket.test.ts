import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RayConnect } from '@ray-connect/core';
import { describe, expect, it } from 'vitest';
import { findConnections, publishConnection, requestSessionEnv } from './localSocket.js';

const ref = { clusterId: 'context:dev', namespace: 'ns', name: 'rc' };
const env = {
  env: { RAY_AUTH_MODE: 'token', RAY_AUTH_TOKEN: 'a+b=', RAY_ADDRESS: 'http://127.0.0.1:1' },
  tokenVersion: 1,
};
const api = { sessionEnv: async () => env } as unknown as RayConnect;

describe('connect <-> env over a local socket', () => {
  it('env finds the running connect by name and gets the session env; files are private and removed on stop', async () => {
    const configDir = mkdtempSync(join(tmpdir(), 'rc-sock-'));
    const stop = await publishConnection(
      api,
      ref,
      {
        ...ref,
        state: 'ready',
        path: 'direct',
        authMode: 'token',
        tokenVersion: 1,
        since: 0,
        dashboardUrl: 'http://127.0.0.1:1',
      },
      configDir,
    );
    expect(statSync(join(configDir, 'run')).mode & 0o777).toBe(0o700);
    const [record, ...more] = await findConnections(configDir, { name: 'rc' });
    expect(more).toEqual([]);
    expect(record?.ref).toEqual(ref);
    expect(record?.path).toBe('direct'); // what `ray-connect status` shows
    expect(statSync(record?.socket ?? '').mode & 0o777).toBe(0o600);
    expect(await findConnections(configDir, { name: 'other' })).toEqual([]);
    expect(await findConnections(configDir, { name: 'rc', namespace: 'elsewhere' })).toEqual([]);
    expect(await requestSessionEnv(record!)).toEqual(env);
    await stop();
    expect(existsSync(record?.socket ?? '')).toBe(false);
    expect(await findConnections(configDir, { name: 'rc' })).toEqual([]);
  });
});
