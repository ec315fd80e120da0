import { describe, expect, it, vi } from 'vitest';
import { FakeClock } from '../ports/Clock.js';
import { Secret } from '../secret.js';
import { clientCertSource } from './clientCertSource.js';
import { credentialSourceForUser } from './credentialSourceForUser.js';
import { inClusterConfig } from './inClusterConfig.js';
import type { KubeUser } from './kubeconfigTypes.js';
import { staticTokenSource } from './staticTokenSource.js';
import { tokenFileSource } from './tokenFileSource.js';

function jwt(claims: Record<string, unknown>): string {
  const b = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${b({ alg: 'none' })}.${b(claims)}.sig`;
}

function fakeFs(files: Record<string, string>) {
  const reads: string[] = [];
  const readFile = async (path: string) => {
    reads.push(path);
    const text = files[path];
    if (text === undefined) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
    return text;
  };
  return { files, reads, readFile };
}

const PEM_CERT = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const PEM_KEY = '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n';

describe('staticTokenSource', () => {
  it('returns the token, with a JWT exp as expiresAt', async () => {
    const plain = await staticTokenSource(new Secret('abc')).get();
    expect(plain.token?.reveal()).toBe('abc');
    expect(plain.expiresAt).toBeUndefined();
    const withExp = await staticTokenSource(new Secret(jwt({ exp: 1_900_000_000 }))).get();
    expect(withExp.expiresAt).toBe(1_900_000_000_000);
  });
});

describe('tokenFileSource', () => {
  it('trims the trailing newline and re-reads after the cache period (rotation)', async () => {
    const fs = fakeFs({ '/t': 'first\n' });
    const clock = new FakeClock();
    const source = tokenFileSource({ path: '/t', readFile: fs.readFile, clock, cacheMs: 1000 });
    expect((await source.get()).token?.reveal()).toBe('first');
    fs.files['/t'] = 'second\r\n';
    expect((await source.get()).token?.reveal()).toBe('first');
    clock.advance(1000);
    expect((await source.get()).token?.reveal()).toBe('second');
  });

  it('invalidate() forces a re-read', async () => {
    const fs = fakeFs({ '/t': 'one' });
    const source = tokenFileSource({ path: '/t', readFile: fs.readFile, clock: new FakeClock() });
    await source.get();
    fs.files['/t'] = 'two';
    source.invalidate?.();
    expect((await source.get()).token?.reveal()).toBe('two');
  });

  it('missing or empty file: TOKEN_INVALID naming the file', async () => {
    await expect(
      tokenFileSource({ path: '/missing', readFile: fakeFs({}).readFile }).get(),
    ).rejects.toMatchObject({ code: 'TOKEN_INVALID', details: { file: '/missing' } });
    await expect(
      tokenFileSource({ path: '/e', readFile: fakeFs({ '/e': '\n' }).readFile }).get(),
    ).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
  });
});

describe('clientCertSource', () => {
  it('reads files and inline base64 data; the key is a Secret', async () => {
    const fs = fakeFs({ '/c.crt': PEM_CERT, '/c.key': PEM_KEY });
    const fromFiles = await clientCertSource({
      cert: { file: '/c.crt' },
      key: { file: '/c.key' },
      readFile: fs.readFile,
    }).get();
    expect(fromFiles.clientCert?.cert).toBe(PEM_CERT);
    expect(fromFiles.clientCert?.key.reveal()).toBe(PEM_KEY);
    expect(JSON.stringify(fromFiles)).not.toContain('PRIVATE KEY');
    const inline = await clientCertSource({
      cert: { data: Buffer.from(PEM_CERT).toString('base64') },
      key: { data: new Secret(Buffer.from(PEM_KEY).toString('base64')) },
      readFile: fs.readFile,
    }).get();
    expect(inline.clientCert?.cert).toBe(PEM_CERT);
  });

  it('a missing file or non-PEM data is KUBECONFIG_INVALID', async () => {
    const fs = fakeFs({ '/c.crt': PEM_CERT });
    await expect(
      clientCertSource({ cert: { file: '/c.crt' }, key: { file: '/nope.key' }, readFile: fs.readFile }).get(),
    ).rejects.toMatchObject({
      code: 'KUBECONFIG_INVALID',
      details: { file: '/nope.key' },
    });
    await expect(
      clientCertSource({
        cert: { data: 'bm90IHBlbQ==' },
        key: { file: '/c.crt' },
        readFile: fs.readFile,
      }).get(),
    ).rejects.toMatchObject({ code: 'KUBECONFIG_INVALID' });
  });
});

describe('inClusterConfig', () => {
  const dir = '/sa';
  it('reads server from env, CA and namespace from the mount, and re-reads the token as it rotates', async () => {
    const fs = fakeFs({ '/sa/token': 'tok-1\n', '/sa/ca.crt': PEM_CERT, '/sa/namespace': 'team\n' });
    const clock = new FakeClock();
    const cfg = await inClusterConfig({
      env: { KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' },
      readFile: fs.readFile,
      dir,
      clock,
      tokenReloadMs: 60_000,
    });
    expect(cfg).toMatchObject({ server: 'https://10.0.0.1:443', ca: PEM_CERT, namespace: 'team' });
    expect((await cfg!.credential.get()).token?.reveal()).toBe('tok-1');
    fs.files['/sa/token'] = 'tok-2';
    clock.advance(60_000);
    expect((await cfg!.credential.get()).token?.reveal()).toBe('tok-2');
  });

  it('IPv6 hosts are bracketed; not in a pod gives undefined', async () => {
    const fs = fakeFs({ '/sa/token': 't' });
    expect(
      (
        await inClusterConfig({
          env: { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' },
          readFile: fs.readFile,
          dir,
        })
      )?.server,
    ).toBe('https://[fd00::1]:443');
    expect(await inClusterConfig({ env: {}, readFile: fs.readFile, dir })).toBeUndefined();
    expect(
      await inClusterConfig({
        env: { KUBERNETES_SERVICE_HOST: 'h', KUBERNETES_SERVICE_PORT: '1' },
        readFile: fakeFs({}).readFile,
        dir,
      }),
    ).toBeUndefined();
  });
});

describe('credentialSourceForUser', () => {
  const entry = (value: KubeUser) => ({ name: 'u', file: '/k', value });
  const fs = fakeFs({ '/tok': 'from-file\n', '/c.crt': PEM_CERT, '/c.key': PEM_KEY });

  it('token wins over tokenFile (as client-go)', async () => {
    const s = credentialSourceForUser(entry({ token: new Secret('inline'), tokenFile: '/tok' }), {
      readFile: fs.readFile,
    });
    expect((await s.get()).token?.reveal()).toBe('inline');
  });

  it('tokenFile', async () => {
    const s = credentialSourceForUser(entry({ tokenFile: '/tok' }), { readFile: fs.readFile });
    expect((await s.get()).token?.reveal()).toBe('from-file');
  });

  it('client cert alone, and together with a token', async () => {
    const cert = credentialSourceForUser(entry({ clientCertificate: '/c.crt', clientKey: '/c.key' }), {
      readFile: fs.readFile,
    });
    expect((await cert.get()).clientCert?.cert).toBe(PEM_CERT);
    const both = credentialSourceForUser(
      entry({ clientCertificate: '/c.crt', clientKey: '/c.key', token: new Secret('t') }),
      { readFile: fs.readFile },
    );
    const c = await both.get();
    expect(c.token?.reveal()).toBe('t');
    expect(c.clientCert?.cert).toBe(PEM_CERT);
  });

  it('no credentials: anonymous', async () => {
    expect(await credentialSourceForUser(entry({}), { readFile: fs.readFile }).get()).toEqual({});
  });

  it('basic auth and unsupported auth-providers are KUBECONFIG_INVALID naming the file', () => {
    expect(() =>
      credentialSourceForUser(entry({ username: 'a', password: new Secret('b') }), { readFile: fs.readFile }),
    ).toThrow(
      expect.objectContaining({
        code: 'KUBECONFIG_INVALID',
        details: expect.objectContaining({ file: '/k' }),
      }),
    );
    expect(() =>
      credentialSourceForUser(entry({ authProvider: { name: 'gcp', config: {}, secrets: {} } }), {
        readFile: fs.readFile,
      }),
    ).toThrow(expect.objectContaining({ code: 'KUBECONFIG_INVALID' }));
  });

  it('auth-provider oidc and exec are wired', () => {
    expect(
      credentialSourceForUser(
        entry({ authProvider: { name: 'oidc', config: { 'idp-issuer-url': 'https://idp' }, secrets: {} } }),
        { readFile: fs.readFile },
      ).description,
    ).toContain('oidc');
    const exec = {
      command: '/bin/plugin',
      args: [],
      env: [],
      apiVersion: 'client.authentication.k8s.io/v1',
      provideClusterInfo: false,
      interactiveMode: 'Never' as const,
    };
    expect(credentialSourceForUser(entry({ exec }), { readFile: fs.readFile }).description).toBe(
      'exec: plugin',
    );
  });

  it('reads nothing until get()', () => {
    const spy = vi.fn(fs.readFile);
    credentialSourceForUser(entry({ tokenFile: '/tok' }), { readFile: spy });
    expect(spy).not.toHaveBeenCalled();
  });
});
