import { describe, expect, it } from 'vitest';
import { checkProxyScheme, proxyFor } from './proxyFor.js';

const P = 'http://proxy:3128';
const at = (url: string, env: Record<string, string>) => proxyFor(new URL(url), env);

describe('proxyFor', () => {
  it('HTTPS_PROXY or https_proxy for https, HTTP_PROXY for http', () => {
    expect(at('https://k:6443', { HTTPS_PROXY: P })).toBe(P);
    expect(at('https://k:6443', { https_proxy: P })).toBe(P);
    expect(at('http://k', { HTTPS_PROXY: P })).toBeUndefined();
    expect(at('http://k', { HTTP_PROXY: P })).toBe(P);
    expect(at('https://k', {})).toBeUndefined();
  });

  const excluded: [string, string][] = [
    ['https://k.example.com', '*'],
    ['https://k.example.com', 'k.example.com'],
    ['https://k.example.com', '.example.com'],
    ['https://k.example.com', 'example.com'],
    ['https://k.example.com', '*.example.com'],
    ['https://k.example.com:6443', 'k.example.com:6443'],
    ['https://10.1.2.3:6443', '10.0.0.0/8'],
    ['https://10.1.2.3', '10.1.2.3'],
    ['https://[::1]:6443', '::1'],
    ['https://K.Example.com', 'other, k.example.COM'],
  ];
  for (const [url, noProxy] of excluded) {
    it(`NO_PROXY=${noProxy} excludes ${url}`, () => {
      expect(at(url, { HTTPS_PROXY: P, NO_PROXY: noProxy })).toBeUndefined();
      expect(at(url, { HTTPS_PROXY: P, no_proxy: noProxy })).toBeUndefined();
    });
  }

  const kept: [string, string][] = [
    ['https://k.example.com', 'other.com'],
    ['https://notexample.com', 'example.com'],
    ['https://k.example.com:6443', 'k.example.com:443'],
    ['https://11.1.2.3', '10.0.0.0/8'],
  ];
  for (const [url, noProxy] of kept) {
    it(`NO_PROXY=${noProxy} keeps the proxy for ${url}`, () => {
      expect(at(url, { HTTPS_PROXY: P, NO_PROXY: noProxy })).toBe(P);
    });
  }
});

describe('checkProxyScheme', () => {
  it('accepts http and https proxies', () => {
    expect(() => checkProxyScheme('http://proxy:3128', 'HTTPS_PROXY')).not.toThrow();
    expect(() => checkProxyScheme('https://proxy:3128', 'HTTPS_PROXY')).not.toThrow();
  });

  it('says a socks5 proxy-url is unsupported, and what to do', () => {
    let thrown: unknown;
    try {
      checkProxyScheme('socks5://127.0.0.1:1080', 'the kubeconfig cluster proxy-url');
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toMatchObject({ code: 'KUBECONFIG_INVALID', details: { scheme: 'socks5' } });
    const e = thrown as { message: string; fix: string };
    expect(e.message).toMatch(/proxy-url is a SOCKS proxy .*supports only HTTP\(S\) proxies/);
    expect(e.fix).toMatch(/Use an HTTP proxy in the kubeconfig cluster proxy-url/);
  });
});
