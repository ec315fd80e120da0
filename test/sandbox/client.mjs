// Test-side helpers for the running sandbox (types: client.d.ts). Plain Node, no dependencies.
//   readSandbox()                 the `sandbox env --json` object
//   approveDevice({userCode,user}) approve a device code through the provider's HTML pages (HTTP + cookie jar)
//   browserLogin(url, {user})     follow an authorization URL through login + consent, then GET the loopback callback
//   kubectl(args, {token?})       run the sandbox's kubectl; a token goes through a temp 0600 kubeconfig, never argv
//   createToken(ns, sa)           TokenRequest for a ServiceAccount (as admin)
//   oidcLogin(user)               a real device flow approved with approveDevice -> { idToken, refreshToken, accessToken }
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { URLSearchParams } from 'node:url';
import { buildEnv } from './lib/envinfo.mjs';
import { CookieJar, fetchRaw, parseForms } from './lib/http.mjs';
import { writeKubeconfig } from './lib/kube.mjs';
import { bin } from './lib/util.mjs';

export function readSandbox() {
  return buildEnv();
}

function ctx() {
  const env = readSandbox();
  return { env, ca: readFileSync(env.caFile), issuer: env.oidc.issuer };
}

function credentials(env, user, password) {
  const u = env.users[user];
  if (!u && password === undefined)
    throw new Error(
      `unknown sandbox user ${JSON.stringify(user)} (known: ${Object.keys(env.users).join(', ')})`,
    );
  return { login: user, password: password ?? u.password };
}

const form = (fields) => new URLSearchParams(fields).toString();
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const text = (html) =>
  html
    .replace(/<style[\s\S]*?<\/style>/gi, '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 300);

/**
 * Drives the provider's pages from `resp` on: follows redirects, submits device/login/consent forms.
 * Returns { done: 'success' } on the device success page, or { callbackUrl } when redirected off the issuer.
 */
async function drive(resp, { issuer, ca, jar, creds, userCode, abort }) {
  const origin = new URL(issuer).origin;
  for (let step = 0; step < 40; step++) {
    if ([301, 302, 303, 307, 308].includes(resp.status)) {
      const next = new URL(resp.headers.location, resp.url);
      if (next.origin !== origin) return { callbackUrl: next.href };
      resp = await fetchRaw(next.href, { ca, jar });
      continue;
    }
    if (resp.status === 401 && /Sign-in failed/.test(resp.body))
      throw new Error(`sandbox OIDC: login refused for ${creds.login} (wrong password?)`);
    if (resp.status !== 200)
      throw new Error(
        `sandbox OIDC: unexpected HTTP ${resp.status} at ${new URL(resp.url).pathname}: ${text(resp.body)}`,
      );
    if (/<title>Sign-in Success<\/title>/.test(resp.body)) return { done: 'success' };
    if (abort && /class="aborted"/.test(resp.body)) return { done: 'aborted' };
    if (/<title>Error<\/title>/.test(resp.body) || /class="error"/.test(resp.body))
      throw new Error(`sandbox OIDC: ${text(resp.body)}`);
    const forms = parseForms(resp.body, resp.url);
    let f;
    let fields;
    if ((f = forms.find((x) => x.names.includes('password')))) {
      fields = { ...f.fields, login: creds.login, password: creds.password };
    } else if ((f = forms.find((x) => x.id === 'op.deviceInputForm'))) {
      fields = { ...f.fields, user_code: userCode };
    } else if ((f = forms.find((x) => x.id === 'op.deviceConfirmForm'))) {
      fields = { ...f.fields, ...(abort ? { abort: 'yes', confirm: undefined } : {}) };
      if (abort) delete fields.confirm;
    } else if ((f = forms.find((x) => x.fields.prompt === 'consent'))) {
      fields = f.fields;
    } else if ((f = forms.find((x) => x.method === 'POST'))) {
      fields = f.fields; // form_post auto-submit pages
    } else {
      throw new Error(`sandbox OIDC: no form to submit at ${new URL(resp.url).pathname}: ${text(resp.body)}`);
    }
    resp = await fetchRaw(f.action, { method: 'POST', headers: FORM, body: form(fields), ca, jar });
  }
  throw new Error('sandbox OIDC: too many steps');
}

/**
 * Approves (or with `deny: true` aborts) a device authorization as `user`, like a person at /device would.
 * `issuer`: another instance of the sandbox provider (default: the sandbox's).
 */
export async function approveDevice({ userCode, user, password, deny = false, issuer: at }) {
  const { env, ca, issuer: own } = ctx();
  const issuer = at ?? own;
  const jar = new CookieJar();
  const start = await fetchRaw(`${issuer}/device`, { ca, jar });
  const r = await drive(start, {
    issuer,
    ca,
    jar,
    creds: credentials(env, user, password),
    userCode,
    abort: deny,
  });
  if (deny) return;
  if (r.done !== 'success')
    throw new Error(`sandbox OIDC: device approval did not finish (${JSON.stringify(r)})`);
}

/**
 * Opens `authorizeUrl` (the provider's authorization endpoint with client_id, redirect_uri http://127.0.0.1:<port>/callback,
 * PKCE ...), signs in as `user`, consents, then GETs the final loopback redirect so the caller's listener receives it.
 * `follow: false` stops at the redirect (a host's own callback page, e.g. a Jupyter server's): callbackUrl only.
 * The provider is the one `authorizeUrl` is on (the sandbox's, or a second instance of it).
 */
export async function browserLogin(authorizeUrl, { user, password, follow = true } = {}) {
  const { env, ca } = ctx();
  const issuer = new URL(authorizeUrl).origin;
  const jar = new CookieJar();
  const start = await fetchRaw(authorizeUrl, { ca, jar });
  const r = await drive(start, { issuer, ca, jar, creds: credentials(env, user, password) });
  if (!r.callbackUrl) throw new Error('sandbox OIDC: the authorization flow did not redirect back');
  if (!follow) return { callbackUrl: r.callbackUrl };
  const cb = await fetchRaw(r.callbackUrl, {});
  return { callbackUrl: r.callbackUrl, status: cb.status, body: cb.body };
}

/** Runs $RC_CACHE/bin/kubectl. Default identity: the admin kubeconfig; `token` (bearer) goes via a temp kubeconfig. */
export async function kubectl(args, { kubeconfig, token, input, namespace, timeoutMs = 60_000 } = {}) {
  const env = readSandbox();
  let tmp;
  let cfg = kubeconfig ?? env.adminKubeconfig;
  if (token !== undefined) {
    tmp = mkdtempSync(join(tmpdir(), 'rc-kubectl-'));
    cfg = join(tmp, 'kubeconfig');
    writeKubeconfig(cfg, {
      server: env.apiServer,
      user: { token: String(token) },
      context: 'sandbox-token',
      namespace,
    });
  }
  try {
    return await new Promise((res, rej) => {
      const p = spawn(bin('kubectl'), ['--kubeconfig', cfg, ...args], {
        stdio: ['pipe', 'pipe', 'pipe'],
        env: { ...process.env, KUBECONFIG: cfg },
      });
      let stdout = '';
      let stderr = '';
      const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
      p.stdout.on('data', (c) => (stdout += c));
      p.stderr.on('data', (c) => (stderr += c));
      p.on('error', rej);
      p.on('close', (code) => {
        clearTimeout(timer);
        res({ code: code ?? -1, stdout, stderr });
      });
      p.stdin.end(input ?? '');
    });
  } finally {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }
}

/** A kubeconfig file (0600) for the sandbox with the given user entry, e.g. { token } or { exec: ... }. */
export function writeUserKubeconfig(file, user, { namespace } = {}) {
  const env = readSandbox();
  writeKubeconfig(file, {
    server: env.apiServer,
    user,
    context: 'sandbox',
    namespace: namespace ?? env.namespace,
  });
  return file;
}

/** TokenRequest (`kubectl create token`) for a ServiceAccount, as admin. */
export async function createToken(namespace, serviceAccount, { expirationSeconds, audiences } = {}) {
  const args = ['create', 'token', serviceAccount, '-n', namespace];
  if (expirationSeconds) args.push(`--duration=${expirationSeconds}s`);
  for (const a of audiences ?? []) args.push(`--audience=${a}`);
  const r = await kubectl(args);
  if (r.code !== 0)
    throw new Error(`kubectl create token ${namespace}/${serviceAccount} failed: ${r.stderr.trim()}`);
  return r.stdout.trim();
}

async function discovery(issuer, ca) {
  const r = await fetchRaw(`${issuer}/.well-known/openid-configuration`, { ca });
  if (r.status !== 200) throw new Error(`sandbox OIDC discovery: HTTP ${r.status}`);
  return JSON.parse(r.body);
}

/** Signs `user` in with a real device flow (approved through the HTML pages) and returns the tokens. */
export async function oidcLogin(
  user,
  { scope = 'openid offline_access email profile groups', password } = {},
) {
  const { ca, issuer } = ctx();
  const d = await discovery(issuer, ca);
  const da = await fetchRaw(d.device_authorization_endpoint, {
    method: 'POST',
    headers: FORM,
    body: form({ client_id: 'kubernetes', scope }),
    ca,
  });
  if (da.status !== 200) throw new Error(`sandbox OIDC device authorization: HTTP ${da.status} ${da.body}`);
  const { device_code: deviceCode, user_code: userCode } = JSON.parse(da.body);
  await approveDevice({ userCode, user, password });
  for (let i = 0; i < 20; i++) {
    const t = await fetchRaw(d.token_endpoint, {
      method: 'POST',
      headers: FORM,
      body: form({
        grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
        device_code: deviceCode,
        client_id: 'kubernetes',
      }),
      ca,
    });
    const j = JSON.parse(t.body);
    if (t.status === 200)
      return {
        idToken: j.id_token,
        refreshToken: j.refresh_token,
        accessToken: j.access_token,
        expiresIn: j.expires_in,
        scope: j.scope,
      };
    if (j.error !== 'authorization_pending' && j.error !== 'slow_down')
      throw new Error(`sandbox OIDC token: ${j.error}: ${j.error_description ?? ''}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error('sandbox OIDC token: still pending after approval');
}

/** refresh_token grant (the refresh token rotates: the old one is dead afterwards). */
export async function oidcRefresh(refreshToken) {
  const { ca, issuer } = ctx();
  const d = await discovery(issuer, ca);
  const t = await fetchRaw(d.token_endpoint, {
    method: 'POST',
    headers: FORM,
    body: form({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: 'kubernetes' }),
    ca,
  });
  const j = JSON.parse(t.body);
  if (t.status !== 200) throw new Error(`sandbox OIDC refresh: ${j.error}: ${j.error_description ?? ''}`);
  return {
    idToken: j.id_token,
    refreshToken: j.refresh_token,
    accessToken: j.access_token,
    expiresIn: j.expires_in,
    scope: j.scope,
  };
}
