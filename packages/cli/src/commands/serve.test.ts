import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { AGENT_SECRET_ENV } from '@ray-connect/shared';
import type { RayConnect } from '@ray-connect/core';
import { silentLogger } from '@ray-connect/core';
import { describe, expect, it } from 'vitest';
import { parseArgs } from '../args.js';
import type { CliContext } from '../compose.js';
import { serve } from './serve.js';

describe('ray-connect serve', () => {
  it('on SIGTERM with stdin still open: closes the agent and the API, lets go of stdin, returns 0; its discovery file lives as long as it', async () => {
    const stdin = new PassThrough();
    const configDir = mkdtempSync(join(tmpdir(), 'rc-serve-'));
    const file = join(configDir, 'agents', `${process.pid}.json`);
    const lines: string[] = [];
    let closed = 0;
    const ctx = {
      api: { close: async () => void closed++ } as unknown as RayConnect,
      args: parseArgs(['serve', '--port', '0']),
      io: {
        stdout: new PassThrough(),
        stderr: new PassThrough(),
        stdin,
        env: { [AGENT_SECRET_ENV]: 'x'.repeat(32) },
      },
      json: false,
      configDir,
      logger: silentLogger,
      out: (t: string) => void lines.push(t),
      err: () => undefined,
    } as unknown as CliContext;
    const done = serve(ctx);
    await expect.poll(() => lines.length).toBe(1);
    const ready = JSON.parse(lines[0]!) as { port: number };
    expect(ready).toMatchObject({ ready: true });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({
      pid: process.pid,
      port: ready.port,
      protocol: 1,
      secret: 'x'.repeat(32),
    });
    process.emit('SIGTERM');
    expect(await done).toBe(0);
    expect(closed).toBe(1);
    expect(stdin.destroyed).toBe(true);
    expect(existsSync(file)).toBe(false);
  });
});
