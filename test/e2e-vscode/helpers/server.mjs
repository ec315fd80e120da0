// Starts and stops the VS Code server bundled in code-server (server-main.js) under Node 24.
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { node24, serverMain } from '../scripts/install.mjs';

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/**
 * server-main.js --host 127.0.0.1 --port P --without-connection-token ... (sandbox.md "Real VS Code").
 * Returns { url, stop() }. Output goes to <dataDir>/server.log.
 */
export async function startServer({ port, dataDir, extensionsDir, env = {}, smokeTestDriver = true }) {
  mkdirSync(dataDir, { recursive: true });
  const args = [
    serverMain,
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '--without-connection-token',
    '--accept-server-license-terms',
    '--disable-telemetry',
    '--disable-workspace-trust',
    '--user-data-dir',
    join(dataDir, 'user'),
    '--server-data-dir',
    join(dataDir, 'server'),
    '--extensions-dir',
    extensionsDir ?? join(dataDir, 'extensions'),
  ];
  if (smokeTestDriver) args.push('--enable-smoke-test-driver');
  const log = createWriteStream(join(dataDir, 'server.log'));
  const child = spawn(node24, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  const url = `http://127.0.0.1:${port}`;
  let exited = false;
  child.on('exit', () => (exited = true));
  for (let i = 0; i < 240 && !exited; i++) {
    try {
      const r = await fetch(url + '/version');
      if (r.status < 500) break;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  if (exited) throw new Error(`VS Code server exited at start; see ${join(dataDir, 'server.log')}`);
  return {
    url,
    log: join(dataDir, 'server.log'),
    stop: () =>
      new Promise((resolve) => {
        if (exited) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => (exited ? undefined : child.kill('SIGKILL')), 5000).unref();
      }),
  };
}
