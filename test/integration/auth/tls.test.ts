// The identity provider's certificate must be verified: a wrong CA (or none) gives TLS_UNTRUSTED naming the issuer.
import { rootCertificates } from 'node:tls';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  MemorySecretStore,
  startBrowserSignIn,
  startDeviceSignIn,
} from '../../../packages/core/src/index.js';
import { sandbox } from './helpers.js';

describe('identity provider TLS', () => {
  let s: ReturnType<typeof sandbox>;
  beforeAll(() => {
    s = sandbox();
  });

  it('a wrong CA gives TLS_UNTRUSTED at the IdP, naming the issuer and how to fix it', async () => {
    const wrongCa = rootCertificates[0] ?? '';
    const error = await startDeviceSignIn(
      { clusterId: 'x', ...s.idp, ca: wrongCa },
      { store: new MemorySecretStore() },
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'TLS_UNTRUSTED', details: { issuer: s.idp.issuer } });
    expect((error as Error).message).toContain(s.idp.issuer);
    expect((error as { fix?: string }).fix).toContain('CA');
  });

  it('no CA (system roots only) is also TLS_UNTRUSTED, for the browser flow too', async () => {
    const { ca: _ca, ...withoutCa } = s.idp;
    await expect(
      startBrowserSignIn({ clusterId: 'x', ...withoutCa }, { store: new MemorySecretStore() }),
    ).rejects.toMatchObject({ code: 'TLS_UNTRUSTED' });
  });

  it('an issuer nobody listens on is IDP_UNREACHABLE', async () => {
    await expect(
      startDeviceSignIn(
        { clusterId: 'x', ...s.idp, issuer: 'https://127.0.0.1:1' },
        { store: new MemorySecretStore() },
      ),
    ).rejects.toMatchObject({
      code: 'IDP_UNREACHABLE',
    });
  });
});
