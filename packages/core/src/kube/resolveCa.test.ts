import { rootCertificates } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { MemoryLogger } from '../ports/Logger.js';
import { resolveCa } from './resolveCa.js';

const files: Record<string, string> = {
  '/setting.pem': 'SETTING',
  '/kube-ca.crt': 'KUBE',
  '/cf.pem': 'CF',
  '/bundle.crt': 'BUNDLE',
};
const readFile = async (p: string) => {
  const t = files[p];
  if (t === undefined) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
  return t;
};
const base = { readFile, workbenchBundle: '/bundle.crt' };
const last = (ca: string[] | undefined) => ca?.[ca.length - 1];

describe('resolveCa', () => {
  it('the setting wins, added to the system roots', async () => {
    const r = await resolveCa({
      ...base,
      setting: '/setting.pem',
      kubeconfig: { certificateAuthority: '/kube-ca.crt' },
      env: { CF_SDK_CA_CERT_PATH: '/cf.pem' },
    });
    expect(r).toMatchObject({ source: 'setting', file: '/setting.pem' });
    expect(last(r.ca)).toBe('SETTING');
    expect(r.ca).toHaveLength(rootCertificates.length + 1);
  });

  it('then the kubeconfig CA (data before file), alone like kubectl', async () => {
    const data = await resolveCa({
      ...base,
      kubeconfig: {
        certificateAuthorityData: Buffer.from('DATA').toString('base64'),
        certificateAuthority: '/kube-ca.crt',
      },
      env: {},
    });
    expect(data).toEqual({ ca: ['DATA'], source: 'kubeconfig' });
    const file = await resolveCa({
      ...base,
      kubeconfig: { certificateAuthority: '/kube-ca.crt' },
      env: { CF_SDK_CA_CERT_PATH: '/cf.pem' },
    });
    expect(file).toEqual({ ca: ['KUBE'], source: 'kubeconfig', file: '/kube-ca.crt' });
  });

  it('then CF_SDK_CA_CERT_PATH, then the workbench bundle when present, then the system roots', async () => {
    expect(await resolveCa({ ...base, env: { CF_SDK_CA_CERT_PATH: '/cf.pem' } })).toMatchObject({
      source: 'CF_SDK_CA_CERT_PATH',
      file: '/cf.pem',
    });
    const logger = new MemoryLogger();
    const bundle = await resolveCa({ ...base, env: { CF_SDK_CA_CERT_PATH: '/missing.pem' }, logger });
    expect(bundle).toMatchObject({ source: 'workbench-bundle', file: '/bundle.crt' });
    expect(logger.lines.some((l) => l.level === 'warn')).toBe(true);
    expect(await resolveCa({ readFile, workbenchBundle: '/no-bundle', env: {} })).toEqual({
      source: 'system',
    });
  });

  it('an unreadable setting or kubeconfig CA file is TLS_UNTRUSTED naming the file', async () => {
    await expect(resolveCa({ ...base, setting: '/nope.pem', env: {} })).rejects.toMatchObject({
      code: 'TLS_UNTRUSTED',
      details: { file: '/nope.pem' },
    });
    await expect(
      resolveCa({ ...base, kubeconfig: { certificateAuthority: '/nope.crt' }, env: {} }),
    ).rejects.toMatchObject({ code: 'TLS_UNTRUSTED' });
  });
});
