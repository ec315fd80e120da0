// A tiny HTTP(S) client with a cookie jar and manual redirects, enough to drive the provider's HTML pages.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export class CookieJar {
  cookies = new Map(); // name -> { value, path }
  store(setCookie) {
    for (const line of [].concat(setCookie ?? [])) {
      const [pair, ...attrs] = line.split(';');
      const i = pair.indexOf('=');
      const name = pair.slice(0, i).trim();
      const value = pair.slice(i + 1).trim();
      const path = attrs.map((a) => a.trim()).find((a) => /^path=/i.test(a))?.slice(5) || '/';
      const expired = attrs.some((a) => /^max-age=0$/i.test(a.trim()) || (/^expires=/i.test(a.trim()) && Date.parse(a.trim().slice(8)) < Date.now()));
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, { value, path });
    }
  }
  header(url) {
    const p = new URL(url).pathname;
    return [...this.cookies].filter(([, c]) => p.startsWith(c.path)).map(([n, c]) => `${n}=${c.value}`).join('; ');
  }
}

export function fetchRaw(url, { method = 'GET', headers = {}, body, ca, jar } = {}) {
  const u = new URL(url);
  const req = u.protocol === 'https:' ? httpsRequest : httpRequest;
  const h = { ...headers };
  if (jar) {
    const c = jar.header(url);
    if (c) h.cookie = c;
  }
  if (body !== undefined) h['content-length'] = Buffer.byteLength(body);
  return new Promise((res, rej) => {
    const r = req(url, { method, headers: h, ca, timeout: 15_000 }, (resp) => {
      const chunks = [];
      resp.on('data', (c) => chunks.push(c));
      resp.on('end', () => {
        jar?.store(resp.headers['set-cookie']);
        res({ url, status: resp.statusCode, headers: resp.headers, body: Buffer.concat(chunks).toString('utf8') });
      });
    });
    r.on('timeout', () => r.destroy(new Error(`timeout: ${method} ${u.origin}${u.pathname}`)));
    r.on('error', rej);
    if (body !== undefined) r.write(body);
    r.end();
  });
}

const decode = (s) => s.replace(/&#x([0-9a-f]+);/gi, (_, h) => String.fromCodePoint(parseInt(h, 16))).replace(/&#(\d+);/g, (_, d) => String.fromCodePoint(Number(d))).replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
const attr = (tag, name) => {
  const m = new RegExp(`\\s${name}\\s*=\\s*"([^"]*)"`, 'i').exec(tag) ?? new RegExp(`\\s${name}\\s*=\\s*'([^']*)'`, 'i').exec(tag);
  return m ? decode(m[1]) : undefined;
};

/** The page's forms: { action, method, fields: {name: value}, names: [input names] }. */
export function parseForms(html, baseUrl) {
  const forms = [];
  const re = /<form\b([^>]*)>([\s\S]*?)<\/form>/gi;
  for (let m; (m = re.exec(html)); ) {
    const fields = {};
    const names = [];
    for (const inp of m[2].match(/<input\b[^>]*>/gi) ?? []) {
      const name = attr(inp, 'name');
      if (!name) continue;
      names.push(name);
      fields[name] = attr(inp, 'value') ?? '';
    }
    forms.push({ action: new URL(attr(m[1], 'action') ?? baseUrl, baseUrl).href, method: (attr(m[1], 'method') ?? 'GET').toUpperCase(), id: attr(m[1], 'id'), fields, names });
  }
  return forms;
}
