import { RayConnectError } from '@ray-connect/core';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { UsageError } from './args.js';
import { errorLine, noteLine, reportError, warningLine } from './output.js';

function report(e: unknown): { code: number; text: string } {
  const stderr = new PassThrough();
  const code = reportError(e, stderr, {}, false);
  return { code, text: String(stderr.read() ?? '') };
}

describe('one message style', () => {
  it('errors are `ray-connect: error: <what> — <fix>` on one line; warnings and notes alike', () => {
    expect(errorLine('No RayCluster x in default.', 'List them with `ray-connect clusters`')).toBe(
      'ray-connect: error: No RayCluster x in default. — List them with `ray-connect clusters`',
    );
    expect(errorLine('multi\n  line')).toBe('ray-connect: error: multi line');
    expect(warningLine('x: no token')).toBe('ray-connect: warning: x: no token');
    expect(noteLine('kept in the keychain')).toBe('ray-connect: note: kept in the keychain');
  });

  it('a usage error exits 2 in the same style', () => {
    expect(report(new UsageError('unknown option --frob'))).toEqual({
      code: 2,
      text: 'ray-connect: error: unknown option --frob — See `ray-connect --help`\n',
    });
  });
});

describe('a taken fixed port', () => {
  it('exits 8 (documented) naming the port and the CLI option that fixes it', () => {
    const e = new RayConnectError(
      'PORT_IN_USE',
      'Local port 8265 (dashboard) is already in use on 127.0.0.1',
      {
        fix: 'Pick another port, or leave the port unset (0) to get a free one',
        details: { port: 8265, label: 'dashboard' },
      },
    );
    const r = report(e);
    expect(r.code).toBe(8);
    expect(r.text).toBe(
      'ray-connect: error: Local port 8265 (dashboard) is already in use on 127.0.0.1 — Pick another port with --dashboard-port <port>, or leave --dashboard-port out to get a free one (port 8265 is taken)\n',
    );
  });

  it('names --client-port for the Ray Client port', () => {
    const e = new RayConnectError('PORT_IN_USE', 'Local port 10001 (client) is already in use', {
      details: { port: 10001, label: 'client' },
    });
    expect(report(e).text).toMatch(/— Pick another port with --client-port <port>/);
  });
});

describe('TLS fixes name the CLI settings', () => {
  it('API server: RAY_CONNECT_CA_FILE, never the VS Code setting', () => {
    const e = new RayConnectError('TLS_UNTRUSTED', 'The certificate of https://k:6443 is not trusted (X).', {
      fix: 'Set the CA file setting ...',
      details: { url: 'https://k:6443', caFor: 'api-server' },
    });
    const r = report(e);
    expect(r.code).toBe(6);
    expect(r.text).toMatch(
      /^ray-connect: error: The certificate .* — Set RAY_CONNECT_CA_FILE or the kubeconfig/,
    );
    expect(r.text).not.toMatch(/rayConnect\.caFile|CF_SDK_CA_CERT_PATH/);
  });

  it('identity provider: RAY_CONNECT_OIDC_CA_FILE and the issuer', () => {
    const e = new RayConnectError(
      'TLS_UNTRUSTED',
      'Signing in: the certificate of https://idp is not trusted',
      {
        details: { issuer: 'https://idp', caFor: 'identity-provider' },
      },
    );
    expect(report(e).text).toMatch(
      /— Set RAY_CONNECT_OIDC_CA_FILE to the CA file that signed https:\/\/idp's certificate\.\n$/,
    );
  });

  it('ingress: RAY_CONNECT_CA_FILE', () => {
    const e = new RayConnectError('TLS_UNTRUSTED', 'The certificate of https://route is not trusted', {
      details: { caFor: 'ingress' },
    });
    expect(report(e).text).toMatch(/— Set RAY_CONNECT_CA_FILE to the CA of the cluster ingress/);
  });
});

describe('main', () => {
  it('an unknown command: one line in the CLI style, exit 2', async () => {
    const { main } = await import('./main.js');
    const stderr = new PassThrough();
    const stdout = new PassThrough();
    const code = await main(['frob'], { stdout, stderr, stdin: new PassThrough(), env: {} });
    expect(code).toBe(2);
    expect(String(stderr.read())).toBe(
      'ray-connect: error: unknown command frob — See `ray-connect --help`\n',
    );
    expect(stdout.read()).toBeNull();
  });
});
