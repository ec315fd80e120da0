import { describe, expect, it } from 'vitest';
import { listenForRedirect } from './loopback.js';

const servers = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPServerWrap').length;

describe('listenForRedirect', () => {
  it('keeps the process alive while waiting for the browser (a CLI has nothing else to wait on), until closed', async () => {
    const before = servers();
    const listener = await listenForRedirect(async () => ({ kind: 'done' }));
    // an unref'd server is not an active resource: `ray-connect login --browser` then exited (code 13) at once
    expect(servers()).toBe(before + 1);
    const page = await fetch(listener.redirectUri);
    expect(page.status).toBe(200);
    await listener.close();
    // the handle itself is released in libuv's close phase, after close() resolved
    for (let i = 0; i < 50 && servers() > before; i++) await new Promise((r) => setTimeout(r, 10));
    expect(servers()).toBe(before);
  });

  it('answers other paths with 404 and leaves the sign-in waiting', async () => {
    let calls = 0;
    const listener = await listenForRedirect(async () => {
      calls++;
      return { kind: 'done' };
    });
    const other = await fetch(new URL('/favicon.ico', listener.redirectUri));
    expect(other.status).toBe(404);
    expect(calls).toBe(0);
    await listener.close();
  });
});
