// kubeconfig `auth-provider: oidc` with an expired id-token: refreshed with our own code against the sandbox's
// real OIDC provider (with its private CA), then accepted by the real API server.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createKubeClientFromContext,
  loadKubeconfig,
  nodeReadTextFile,
  whoAmI,
} from '../../../packages/core/src/index.js';
import { oidcLogin } from '../../sandbox/client.mjs';
import { fakeJwt, sandbox, tempDir, writeKubeconfig } from './helpers.js';

describe('auth-provider oidc against the sandbox', () => {
  let s: ReturnType<typeof sandbox>;
  beforeAll(() => {
    s = sandbox();
  });

  it('an expired id-token is refreshed with the refresh-token, and the API server accepts the new one', async () => {
    const tokens = (await oidcLogin('alice')) as { refreshToken: string };
    const dir = tempDir();
    const file = writeKubeconfig(dir, {
      'auth-provider': {
        name: 'oidc',
        config: {
          'idp-issuer-url': s.oidc.issuer,
          'client-id': s.oidc.clientId,
          'idp-certificate-authority': s.oidc.caFile,
          'id-token': fakeJwt(Math.floor(Date.now() / 1000) - 60),
          'refresh-token': tokens.refreshToken,
        },
      },
    });
    const view = await loadKubeconfig({
      env: { KUBECONFIG: file },
      homedir: '/x',
      readFile: nodeReadTextFile,
    });
    const client = await createKubeClientFromContext(view, undefined, { env: {} });
    const me = await whoAmI(client);
    expect(me.username).toBe('oidc:alice');
    const token = await client.bearerToken();
    expect(token?.expiresAt).toBeGreaterThan(Date.now());
  });

  it('a refresh-token the provider does not know is REFRESH_FAILED', async () => {
    const dir = tempDir();
    const file = writeKubeconfig(dir, {
      'auth-provider': {
        name: 'oidc',
        config: {
          'idp-issuer-url': s.oidc.issuer,
          'client-id': s.oidc.clientId,
          'idp-certificate-authority': s.oidc.caFile,
          'id-token': fakeJwt(Math.floor(Date.now() / 1000) - 60),
          'refresh-token': 'not-a-refresh-token',
        },
      },
    });
    const view = await loadKubeconfig({
      env: { KUBECONFIG: file },
      homedir: '/x',
      readFile: nodeReadTextFile,
    });
    const client = await createKubeClientFromContext(view, undefined, { env: {} });
    await expect(whoAmI(client)).rejects.toMatchObject({ code: 'REFRESH_FAILED' });
  });
});
