// The real Ray dashboard, checked in a tab at `base` (its URL path ends with "/"): it renders, the Jobs page lists the
// job `sid` (one that prints "rc-e2e tick <n>" every second), the job page shows its log, no token is asked for,
// and the log streams through whatever serves `base` (HTTP chunks of api/v0/logs/stream). Every URL is relative to
// `base`, as the dashboard's own are. tailJobLog: the Jobs websocket (api/jobs/<id>/logs/tail) from a non-browser
// client (Ray closes it at once for a browser's request, as it refuses browsers on its Jobs API).
import { expect } from '@playwright/test';
import type { Page } from '@playwright/test';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { info } from './hub';

export async function checkDashboard(
  dash: Page,
  base: string,
  sid: string,
  shot: (name: string) => Promise<void> = async () => undefined,
): Promise<void> {
  await expect(dash).toHaveTitle(/Ray Dashboard/);
  await expect(dash.getByText('Recent jobs')).toBeVisible();
  await shot('07-dashboard');

  await dash.goto(`${base}#/jobs`);
  await expect(dash.locator('table')).toContainText(sid);
  await shot('08-dashboard-jobs');
  await dash.goto(`${base}#/jobs/${sid}`);
  await expect(dash.getByText(/rc-e2e tick \d+/).first()).toBeVisible();
  // The token-mode cluster never asked for its token: the server adds it.
  await expect(dash.getByText('Authentication Token Required')).toHaveCount(0);
  await shot('09-dashboard-job-log');

  // The log streams: HTTP chunks arrive one after another, each with later ticks.
  const streamed = await dash.evaluate(async (id) => {
    const job = (await (await fetch(`api/jobs/${id}`)).json()) as { driver_node_id: string };
    const ctrl = new AbortController();
    const r = await fetch(
      `api/v0/logs/stream?node_id=${job.driver_node_id}&filename=job-driver-${id}.log&lines=1`,
      { signal: ctrl.signal },
    );
    const reader = r.body!.getReader();
    const ticks: number[][] = [];
    const end = Date.now() + 30_000;
    while (ticks.filter((t) => t.length).length < 3 && Date.now() < end) {
      const { value, done } = await reader.read();
      if (done) break;
      ticks.push(
        [...new TextDecoder().decode(value).matchAll(/rc-e2e tick (\d+)/g)].map((m) => Number(m[1])),
      );
    }
    ctrl.abort();
    return { status: r.status, ticks: ticks.filter((t) => t.length) };
  }, sid);
  expect(streamed.status).toBe(200);
  expect(streamed.ticks.length, `stream chunks: ${JSON.stringify(streamed.ticks)}`).toBeGreaterThanOrEqual(3);
  expect(Math.max(...streamed.ticks.at(-1)!)).toBeGreaterThan(Math.max(...streamed.ticks[0]!));
}

const TAIL_PY = `
import asyncio, json, os, re, sys, aiohttp
async def main():
    headers = {"Authorization": "token " + os.environ["RC_TAIL_TOKEN"]} if os.environ.get("RC_TAIL_TOKEN") else {}
    ticks, out = [], {}
    try:
        async with aiohttp.ClientSession() as s:
            async with s.ws_connect(sys.argv[1], headers=headers, timeout=30) as ws:
                async def read():
                    async for m in ws:
                        if m.type == aiohttp.WSMsgType.TEXT:
                            ticks.append([int(n) for n in re.findall(r"rc-e2e tick (\\d+)", m.data)])
                            if len([t for t in ticks if t]) >= 3:
                                return
                await asyncio.wait_for(read(), 30)
    except Exception as e:
        out["error"] = type(e).__name__ + ": " + str(e)
    out["ticks"] = [t for t in ticks if t]
    print(json.dumps(out))
asyncio.run(main())
`;

/**
 * Tails job `sid`'s log over the Jobs websocket at `base` (http URL ending with "/") with the venv's aiohttp; a hub
 * token (in the child's env, never argv) when `base` is behind the hub. Returns the ticks of each message.
 */
export function tailJobLog(
  base: string,
  sid: string,
  token?: string,
): Promise<{ ticks: number[][]; error?: string }> {
  const url = new URL(`api/jobs/${sid}/logs/tail`, base);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return new Promise((resolve, reject) => {
    const p = spawn(join(info.venv, 'bin', 'python'), ['-c', TAIL_PY, url.href], {
      env: { PATH: '/usr/bin:/bin', ...(token ? { RC_TAIL_TOKEN: token } : {}) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    p.stdout.on('data', (c) => (out += c));
    p.stderr.on('data', (c) => (err += c));
    p.on('error', reject);
    p.on('close', (code) => {
      try {
        resolve(JSON.parse(out.trim().split('\n').pop() ?? ''));
      } catch {
        reject(new Error(`tail of ${sid} exited ${code}: ${out} ${err}`));
      }
    });
  });
}
