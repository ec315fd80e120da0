// Helpers shared by the root scripts (start, test, bench). Plain Node, no dependencies: they run before install.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const cacheDir =
  process.env.RC_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'ray-connect');

/** How to run pnpm from here: the pnpm that runs us (npm_execpath), else the one pinned in package.json via npx. */
export function pnpmCommand() {
  const execPath = process.env.npm_execpath ?? '';
  if (/pnpm/.test(execPath)) return [process.execPath, execPath];
  return ['npx', '--yes', 'pnpm@10.34.9'];
}

export function log(message) {
  process.stderr.write(`[ray-connect] ${message}\n`);
}

/** Runs a command with inherited stdio; resolves to its exit code (never rejects). */
export function run(cmd, args, options = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: root, stdio: 'inherit', ...options });
    child.on('error', (e) => {
      log(`could not start ${cmd}: ${e.message}`);
      resolve(127);
    });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

export async function pnpm(args, options) {
  const [cmd, ...pre] = pnpmCommand();
  return run(cmd, [...pre, ...args], options);
}

/** Installs workspace dependencies from the lockfile when node_modules is missing or older than the lockfile. */
export async function ensureInstalled() {
  if (existsSync(join(root, 'node_modules', '.modules.yaml')) && !process.env.RC_FORCE_INSTALL) {
    const code = await pnpm(['install', '--frozen-lockfile', '--prefer-offline', '--reporter=silent']);
    if (code === 0) return;
  }
  log('installing dependencies (pnpm install --frozen-lockfile)');
  const code = await pnpm(['install', '--frozen-lockfile', '--prefer-offline']);
  if (code !== 0) throw new Error('pnpm install failed; see the output above');
}
