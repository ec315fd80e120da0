// Finds the sandbox (test/sandbox, owned by the sandbox team) and starts it when it is not running.
// RC_BENCH_KUBECONFIG=<admin kubeconfig> skips the sandbox entirely (benchmark another cluster; suites that need
// sandbox-only pieces then say "not available").
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { exec } from './proc.mjs';

function findKubeconfig(env) {
  if (!env || typeof env !== 'object') return undefined;
  const direct = env.adminKubeconfig ?? env.kubeconfig ?? env.KUBECONFIG ?? env.admin?.kubeconfig ?? env.paths?.adminKubeconfig ?? env.paths?.kubeconfig;
  if (typeof direct === 'string') return direct;
  for (const [k, v] of Object.entries(env)) {
    if (/kubeconfig/i.test(k) && typeof v === 'string' && existsSync(v)) return v;
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const nested = findKubeconfig(v);
      if (nested) return nested;
    }
  }
  return undefined;
}

async function readEnv(ctx) {
  const script = join(ctx.root, 'test', 'sandbox', 'sandbox.mjs');
  if (!existsSync(script)) throw new Error('test/sandbox/sandbox.mjs does not exist yet');
  const client = join(ctx.root, 'test', 'sandbox', 'client.mjs');
  if (existsSync(client)) {
    try {
      const mod = await import(pathToFileURL(client).href);
      if (typeof mod.readSandbox === 'function') {
        const env = await mod.readSandbox();
        if (env && findKubeconfig(env)) return { env, client: mod };
      }
    } catch {
      /* fall back to the CLI */
    }
  }
  const r = await exec(process.execPath, [script, 'env', '--json'], { cwd: ctx.root, timeoutMs: 30_000 });
  if (r.code !== 0) return undefined;
  try {
    const env = JSON.parse(r.stdout);
    return findKubeconfig(env) ? { env } : undefined;
  } catch {
    return undefined;
  }
}

async function ready(ctx, kubeconfig) {
  const r = await exec(ctx.kubectl, [`--kubeconfig=${kubeconfig}`, 'get', '--raw', '/readyz'], { timeoutMs: 15_000 });
  return r.code === 0;
}

export async function openSandbox(ctx, { start = true } = {}) {
  if (process.env.RC_BENCH_KUBECONFIG) {
    return { env: {}, kubeconfig: process.env.RC_BENCH_KUBECONFIG, how: `RC_BENCH_KUBECONFIG=${process.env.RC_BENCH_KUBECONFIG}` };
  }
  let found = await readEnv(ctx);
  if (found && (await ready(ctx, findKubeconfig(found.env)))) {
    return { env: found.env, client: found.client, kubeconfig: findKubeconfig(found.env), how: 'already running' };
  }
  if (!start) throw new Error('not running (and --no-sandbox-start)');
  ctx.log('starting the sandbox (node test/sandbox/sandbox.mjs up)');
  const t0 = Date.now();
  // Its progress goes to our stderr (the bench's stdout stays quiet).
  const code = await new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ctx.root, 'test', 'sandbox', 'sandbox.mjs'), 'up'], { cwd: ctx.root, stdio: ['ignore', 2, 2] });
    const timer = setTimeout(() => child.kill('SIGTERM'), 15 * 60_000);
    child.on('error', () => resolve(127));
    child.on('exit', (c, sig) => {
      clearTimeout(timer);
      resolve(c ?? (sig ? 128 : 1));
    });
  });
  if (code !== 0) throw new Error(`sandbox up failed (exit ${code}); see its output above`);
  found = await readEnv(ctx);
  if (!found) throw new Error('sandbox up succeeded but `sandbox.mjs env --json` gives no kubeconfig');
  return {
    env: found.env,
    client: found.client,
    kubeconfig: findKubeconfig(found.env),
    how: `started by the bench in ${Math.round((Date.now() - t0) / 1000)} s`,
  };
}
