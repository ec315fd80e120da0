import { isIP } from 'node:net';
import { RayConnectError } from '../errors.js';

/**
 * The proxy URL for a request to `target`, from HTTPS_PROXY/https_proxy (HTTP_PROXY/http_proxy for http:),
 * unless NO_PROXY/no_proxy excludes the host: `*`, exact hosts, `.domain` and `domain` suffixes, `host:port`,
 * IPs and IPv4 CIDRs, as curl and Go do.
 */
export function proxyFor(target: URL, env: Record<string, string | undefined>): string | undefined {
  const https = target.protocol === 'https:';
  const proxy = https ? (env.HTTPS_PROXY ?? env.https_proxy) : (env.HTTP_PROXY ?? env.http_proxy);
  if (!proxy) return undefined;
  const noProxy = env.NO_PROXY ?? env.no_proxy ?? '';
  return excluded(target, noProxy) ? undefined : proxy;
}

function excluded(target: URL, noProxy: string): boolean {
  const host = target.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = target.port || (target.protocol === 'https:' ? '443' : '80');
  for (const raw of noProxy.split(/[,\s]+/)) {
    let entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    if (entry === '*') return true;
    let entryPort: string | undefined;
    const m = /^(.*):(\d+)$/.exec(entry);
    if (m && !entry.includes('::') && isIP(entry) !== 6) {
      entry = m[1] as string;
      entryPort = m[2];
    }
    entry = entry.replace(/^\[|\]$/g, '');
    if (entryPort !== undefined && entryPort !== port) continue;
    if (entry.includes('/')) {
      if (inCidr(host, entry)) return true;
      continue;
    }
    if (host === entry) return true;
    const suffix = entry.startsWith('*.') ? entry.slice(1) : entry.startsWith('.') ? entry : `.${entry}`;
    if (!isIP(host) && host.endsWith(suffix)) return true;
  }
  return false;
}

function inCidr(host: string, cidr: string): boolean {
  const [base, bitsText] = cidr.split('/');
  const bits = Number(bitsText);
  if (isIP(host) !== 4 || isIP(base ?? '') !== 4 || !Number.isInteger(bits) || bits < 0 || bits > 32)
    return false;
  const toInt = (ip: string) => ip.split('.').reduce((n, o) => (n << 8) + Number(o), 0) >>> 0;
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return (toInt(host) & mask) === (toInt(base as string) & mask);
}

/**
 * Only http:// and https:// proxies are supported: a `socks5://` (or other) proxy fails here with a message that
 * says so, instead of a confusing error from the HTTP stack. `source` names where the URL came from.
 */
export function checkProxyScheme(proxy: string, source: string): void {
  let protocol: string;
  try {
    protocol = new URL(proxy).protocol;
  } catch (e) {
    throw new RayConnectError('KUBECONFIG_INVALID', `The proxy URL in ${source} is not a valid URL.`, {
      fix: `Set ${source} to an http:// or https:// proxy URL.`,
      details: { field: source },
      cause: e,
    });
  }
  if (protocol === 'http:' || protocol === 'https:') return;
  const socks = protocol.startsWith('socks');
  throw new RayConnectError(
    'KUBECONFIG_INVALID',
    socks
      ? `${source} is a SOCKS proxy (${protocol}//): Ray Connect supports only HTTP(S) proxies (HTTP CONNECT).`
      : `${source} uses the proxy scheme ${protocol}//: Ray Connect supports only http:// and https:// proxies.`,
    {
      fix: socks
        ? `Use an HTTP proxy in ${source} (for example a local HTTP-to-SOCKS bridge), or remove it and reach the API server directly (e.g. through a VPN or an SSH tunnel: ssh -L).`
        : `Set ${source} to an http:// or https:// proxy URL.`,
      details: { field: source, scheme: protocol.replace(/:$/, '') },
    },
  );
}
