// The sandbox identity provider: oidc-provider v9 over https. Runs under Node >= 22 from $RC_CACHE/oidc
// (started by lib/oidc.mjs). argv[2] is a JSON config file; secrets (passwords, keys) are read from files.
//  - public client `kubernetes` (no secret): device_code, authorization_code (+PKCE, loopback redirect any port), refresh_token
//  - public client `openshift-cli-client` (OpenShift `oc login --web` stand-in): authorization_code + PKCE, loopback
//  - both also accept a JupyterLab server's callback: http(s)://127.0.0.1|localhost|<name>.test[:port][/prefix]/ray-connect/oauth/callback
//  - dev interactions (login + consent pages) with a password check in front of them
//  - id_token carries email and groups (conformIdTokenClaims: false), RS256, refresh tokens rotate
//  - /.well-known/oauth-authorization-server: the same metadata (OpenShift-style discovery)
//  - POST /tokenreview: a kube-apiserver token webhook that accepts this provider's opaque access tokens
import { createPrivateKey, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const cfg = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const { default: Provider } = await import(pathToFileURL(join(cfg.oidcDir, 'node_modules', 'oidc-provider', 'lib', 'index.js')).href);

const users = JSON.parse(readFileSync(cfg.usersFile, 'utf8'));
const jwk = { ...createPrivateKey(readFileSync(cfg.signingKeyFile)).export({ format: 'jwk' }), alg: 'RS256', use: 'sig', kid: 'sandbox-rs256' };
const ttl = Number(cfg.tokenTtlSeconds) || 600;
const log = (m) => process.stdout.write(`${new Date().toISOString()} ${m}\n`);

const page = (title, body) => `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${title}</title>
<style>body{font-family:sans-serif;margin:2em auto;max-width:24em}input,button{display:block;width:100%;margin:.4em 0;padding:.4em}</style>
</head><body><h1>${title}</h1>${body}</body></html>`;

const provider = new Provider(cfg.issuer, {
  clients: [
    {
      client_id: 'kubernetes',
      client_name: 'Kubernetes (Ray Connect sandbox)',
      application_type: 'native',
      token_endpoint_auth_method: 'none',
      grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token', 'authorization_code'],
      response_types: ['code'],
      redirect_uris: ['http://127.0.0.1/callback', 'http://localhost/callback'],
      post_logout_redirect_uris: ['http://127.0.0.1/logout', 'http://localhost/logout'],
    },
    {
      // OpenShift's built-in CLI client (`oc login --web`): public, authorization code + PKCE, loopback redirect any port
      client_id: 'openshift-cli-client',
      client_name: 'OpenShift CLI (Ray Connect sandbox)',
      application_type: 'native',
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code'],
      response_types: ['code'],
      redirect_uris: ['http://127.0.0.1/callback'],
    },
  ],
  async findAccount(_ctx, id) {
    const u = users[id];
    if (!u) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: id, preferred_username: id, name: id, email: u.email, email_verified: true, groups: u.groups ?? [] };
      },
    };
  },
  claims: {
    openid: ['sub', 'groups'],
    email: ['email', 'email_verified'],
    profile: ['name', 'preferred_username'],
    groups: ['groups'],
  },
  // user:full: the scope OpenShift's CLI asks for (the opaque access token is what the token webhook accepts)
  scopes: ['openid', 'offline_access', 'email', 'profile', 'groups', 'user:full'],
  conformIdTokenClaims: false,
  jwks: { keys: [jwk] },
  cookies: { keys: [cfg.cookieKey || randomBytes(32).toString('hex')] },
  features: {
    devInteractions: { enabled: true },
    revocation: { enabled: true },
    introspection: { enabled: true },
    deviceFlow: {
      enabled: true,
      async userCodeInputSource(ctx, form, _out, err) {
        let msg = '<p>Enter the code displayed on your device</p>';
        if (err?.name === 'AbortedError') msg = '<p class="aborted">The Sign-in request was interrupted</p>';
        else if (err) msg = `<p class="error">${err.userCode || err.name === 'NoCodeError' ? 'The code you entered is incorrect. Try again' : 'There was an error processing your request'}</p>`;
        ctx.body = page('Sign-in', `${msg}${form.replace('</form>', '<button type="submit">Continue</button></form>')}`);
      },
      async userCodeConfirmSource(ctx, form, client, _deviceInfo, userCode) {
        ctx.body = page('Confirm Device', `<p><strong>${client.clientName || client.clientId}</strong></p><p>Code: <code>${userCode}</code></p>${form}<button autofocus type="submit" form="op.deviceConfirmForm">Continue</button>`);
      },
      async successSource(ctx) {
        ctx.body = page('Sign-in Success', '<p>Your sign-in was successful, you can now close this page.</p>');
      },
    },
  },
  ttl: {
    AccessToken: ttl,
    IdToken: ttl,
    RefreshToken: 24 * 3600,
    DeviceCode: 600,
    AuthorizationCode: 120,
    Interaction: 3600,
    Session: 24 * 3600,
    Grant: 24 * 3600,
  },
  // rotateRefreshToken: default (a public client's refresh token rotates on every use; reuse revokes the grant)
  renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = page('Error', `<pre>${Object.entries(out).map(([k, v]) => `${k}: ${String(v).replace(/[<&]/g, '')}`).join('\n')}</pre>`);
  },
});
// A Jupyter server's own callback page (browser sign-in from a page that is not on the server's host): the sandbox
// lists it for any port and base URL, on loopback names and on *.test names (tests map those to 127.0.0.1).
const JUPYTER_CALLBACK = /^https?:\/\/(127\.0\.0\.1|localhost|([a-z0-9-]+\.)+test)(:\d{1,5})?(\/[^?#]*)?\/ray-connect\/oauth\/callback$/i;
const JUPYTER_CALLBACK_CLIENTS = new Set(['kubernetes', 'openshift-cli-client']);
const redirectUriAllowed = provider.Client.prototype.redirectUriAllowed;
provider.Client.prototype.redirectUriAllowed = function (value) {
  return redirectUriAllowed.call(this, value) || (JUPYTER_CALLBACK_CLIENTS.has(this.clientId) && JUPYTER_CALLBACK.test(value));
};

provider.on('server_error', (_ctx, err) => log(`server_error: ${err.stack || err}`));
provider.on('grant.success', (ctx) => log(`grant.success ${ctx.oidc.params?.grant_type ?? ''} client=${ctx.oidc.client?.clientId}`));
provider.on('grant.error', (_ctx, err) => log(`grant.error ${err.error}: ${err.error_description}`));

const app = provider.callback();

function readBody(req) {
  return new Promise((res, rej) => {
    const chunks = [];
    let n = 0;
    req.on('data', (c) => {
      n += c.length;
      if (n > 64 * 1024) req.destroy(new Error('too large'));
      else chunks.push(c);
    });
    req.on('end', () => res(Buffer.concat(chunks).toString('utf8')));
    req.on('error', rej);
  });
}

async function tokenReview(req, res) {
  // kube-apiserver's --authentication-token-webhook: accepts this provider's opaque access tokens (OpenShift stand-in)
  const review = JSON.parse(await readBody(req));
  const token = review?.spec?.token;
  let status = { authenticated: false };
  if (typeof token === 'string' && token.length < 200 && !token.includes('.')) {
    const at = await provider.AccessToken.find(token).catch(() => undefined);
    const u = at && users[at.accountId];
    if (at && u && !at.isExpired) {
      status = { authenticated: true, user: { username: `${cfg.usernamePrefix}${at.accountId}`, uid: at.accountId, groups: (u.groups ?? []).map((g) => `${cfg.groupsPrefix}${g}`) } };
    }
  }
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ apiVersion: review?.apiVersion ?? 'authentication.k8s.io/v1', kind: 'TokenReview', status }));
}

const server = createServer({ key: readFileSync(cfg.keyFile), cert: readFileSync(cfg.certFile) }, async (req, res) => {
  try {
    const url = new URL(req.url, cfg.issuer);
    if (url.pathname === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      return res.end('ok');
    }
    if (url.pathname === '/tokenreview' && req.method === 'POST') return await tokenReview(req, res);
    if (url.pathname === '/.well-known/oauth-authorization-server') req.url = '/.well-known/openid-configuration' + url.search;
    // password check in front of the dev interactions' login form (which accepts any login by itself)
    if (req.method === 'POST' && /^\/interaction\/[^/]+\/?$/.test(url.pathname)) {
      const raw = await readBody(req);
      const form = new URLSearchParams(raw);
      if (form.get('prompt') === 'login') {
        const u = users[form.get('login')];
        if (!u || u.password !== form.get('password')) {
          log(`login refused for ${JSON.stringify(form.get('login'))}`);
          res.writeHead(401, { 'content-type': 'text/html' });
          return res.end(page('Sign-in failed', `<p class="error">Invalid username or password.</p><p><a href="${url.pathname}">Try again</a></p>`));
        }
        log(`login ok for ${form.get('login')}`);
      }
      req.body = raw; // oidc-provider reads an already-consumed body from req.body
    }
    return app(req, res);
  } catch (e) {
    log(`handler error: ${e.stack || e}`);
    if (!res.headersSent) res.writeHead(500);
    res.end();
  }
});
server.listen(cfg.port, '127.0.0.1', () => log(`oidc-provider listening on ${cfg.issuer} (token ttl ${ttl}s)`));
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => process.exit(0)));
