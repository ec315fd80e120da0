import { PassThrough } from 'node:stream';
import { AGENT_SECRET_ENV } from '@ray-connect/shared';
import type { RayConnect } from '@ray-connect/core';
import { silentLogger } from '@ray-connect/core';
import { describe, expect, it } from 'vitest';
import { parseArgs } from '../args.js';
import type { CliContext } from '../compose.js';
import { serve } from './serve.js';

describe('ray-connect serve', () => {
  it('on SIGTERM with stdin still open: closes the agent and the API, lets go of stdin, returns 0', async () => {
    const stdin = new PassThrough();
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
      configDir: '/nonexistent',
      logger: silentLogger,
      out: (t: string) => void lines.push(t),
      err: () => undefined,
    } as unknown as CliContext;
    const done = serve(ctx);
    await expect.poll(() => lines.length).toBe(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ ready: true });
    process.emit('SIGTERM');
    expect(await done).toBe(0);
    expect(closed).toBe(1);
    expect(stdin.destroyed).toBe(true);
  });
});
