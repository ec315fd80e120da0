// HTTP load client with bounded loops: every loop has a request count and every request a timeout.
import { Agent, request } from 'node:http';
import { now, summary } from './stats.mjs';

/** One GET; resolves to { status, bytes, ms }. Rejects on error or after timeoutMs. */
export function get(url, { agent, headers, timeoutMs = 30_000 } = {}) {
  return new Promise((resolve, reject) => {
    const t0 = now();
    const req = request(url, { agent, headers, timeout: timeoutMs }, (res) => {
      let bytes = 0;
      res.on('data', (c) => (bytes += c.length));
      res.on('end', () => resolve({ status: res.statusCode, bytes, ms: now() - t0 }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** Like get() but also returns the body as text (for small responses). */
export function getText(url, { headers, timeoutMs = 10_000, agent } = {}) {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, timeout: timeoutMs, agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/**
 * Bulk download: GET url `repeat` times on fresh connections; returns MB/s (MiB/s) per run and the best/median.
 */
export async function throughput(url, { repeat = 3, expectBytes, timeoutMs = 120_000 } = {}) {
  const runs = [];
  for (let i = 0; i < repeat; i++) {
    const agent = new Agent({ keepAlive: false });
    const r = await get(url, { agent, timeoutMs });
    agent.destroy();
    if (r.status !== 200) throw new Error(`bulk GET gave HTTP ${r.status}`);
    if (expectBytes && r.bytes !== expectBytes) throw new Error(`bulk GET gave ${r.bytes} bytes, expected ${expectBytes}`);
    runs.push(r.bytes / (1024 * 1024) / (r.ms / 1000));
  }
  const sorted = [...runs].sort((a, b) => a - b);
  return { runs, median: sorted[Math.floor(sorted.length / 2)], best: sorted[sorted.length - 1] };
}

/**
 * Latency of `total` small GETs spread over `concurrency` workers, each on its own keep-alive connection
 * (keepAlive: true) or a new connection per request (keepAlive: false). Returns the latency summary (ms) and
 * requests/s. Errors are counted, not thrown, unless every request fails.
 */
export async function latency(url, { total = 1000, concurrency = 1, keepAlive = true, warmup = 20, timeoutMs = 30_000, raw = false } = {}) {
  const agent = new Agent({ keepAlive, maxSockets: concurrency, maxFreeSockets: concurrency });
  try {
    // Warm up: open the connections (and the forwarder's streams) before timing.
    await Promise.all(
      Array.from({ length: Math.min(concurrency, warmup) || 1 }, () => get(url, { agent, timeoutMs }).catch(() => undefined)),
    );
    const samples = [];
    let errors = 0;
    let firstError;
    let next = 0;
    const t0 = now();
    const worker = async () => {
      while (next < total) {
        next += 1;
        try {
          const r = await get(url, { agent, timeoutMs });
          if (r.status !== 200) throw new Error(`HTTP ${r.status}`);
          samples.push(r.ms);
        } catch (e) {
          errors += 1;
          firstError ??= e;
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    const elapsed = now() - t0;
    if (!samples.length) throw firstError ?? new Error('no request succeeded');
    return { ...summary(samples), errors, firstError: firstError?.message, rps: samples.length / (elapsed / 1000), ...(raw ? { samples } : {}) };
  } finally {
    agent.destroy();
  }
}
