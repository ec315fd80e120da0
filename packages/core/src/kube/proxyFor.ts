import { isIP } from 'node:net';

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
