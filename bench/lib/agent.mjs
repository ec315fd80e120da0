// Starting the agent (`ray-connect serve`, shared/src/protocol.ts) and calling it.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'node:http';
import { now } from './stats.mjs';
import { startChild } from './proc.mjs';

/** The agent JS: the bundle shipped to JupyterLab, else the CLI's bin. */
export function findAgent(root) {
  const candidates = [
    join(root, 'extension-jupyterlab', 'ray_connect_jupyterlab', 'agent', 'ray-connect.mjs'),
    join(root, 'extension-jupyterlab', 'ray_connect_jupyterlab', 'agent', 'ray-connect.cjs'),
    join(root, 'packages', 'cli', 'dist', 'ray-connect.mjs'),
    join(root, 'packages', 'cli', 'bin', 'ray-connect.js'),
  ];
  return candidates.find((c) => existsSync(c));
}

/** Spawns the agent; resolves { child, ready, startMs, secret } on its ready line. */
export async function startAgent(ctx, { agentJs, kubeconfig, env = {} } = {}) {
  const js = agentJs ?? findAgent(ctx.root);
  if (!js) throw new Error('no agent built (extension-jupyterlab agent bundle or packages/cli/bin/ray-connect.js)');
  const secret = randomBytes(24).toString('hex');
  const home = mkdtempSync(join(ctx.tmp, 'agent-home-'));
  const t0 = now();
  const { child, match } = await startChild(process.execPath, [js, 'serve', '--port', '0'], {
    env: {
      ...process.env,
      RAY_CONNECT_AGENT_SECRET: secret,
      ...(kubeconfig ? { KUBECONFIG: kubeconfig } : {}),
      XDG_CONFIG_HOME: join(home, 'config'),
      XDG_STATE_HOME: join(home, 'state'),
      XDG_DATA_HOME: join(home, 'data'),
      ...env,
    },
    ready: (l) => {
      if (!l.startsWith('{')) return undefined;
      const j = JSON.parse(l);
      return j.ready ? j : undefined;
    },
    timeoutMs: 20_000,
  });
  return { child, ready: match, startMs: now() - t0, secret, js };
}

/** POST /v1/call/<method> with args; resolves the result or throws the error. */
export function callAgent(agent, method, args = [], timeoutMs = 60_000) {
  const body = JSON.stringify({ args });
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: agent.ready.port,
        method: 'POST',
        path: `/v1/call/${method}`,
        headers: { authorization: `Bearer ${agent.secret}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          let j;
          try {
            j = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {
            return reject(new Error(`agent ${method}: HTTP ${res.statusCode}, not JSON`));
          }
          if (j.error) reject(Object.assign(new Error(`agent ${method}: ${j.error.code}: ${j.error.message}`), { info: j.error }));
          else resolve(j.result);
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`agent ${method} timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}
