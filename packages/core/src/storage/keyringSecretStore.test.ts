import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Secret } from '../secret.js';
import { chooseSecretStore } from './chooseSecretStore.js';
import { KeyringSecretStore, mapKeyringMessage } from './keyringSecretStore.js';

// The real Secret Service is exercised in test/integration/auth/keychain.test.ts; these cover the branches.
const noBus = { PATH: process.env['PATH'] ?? '', XDG_RUNTIME_DIR: '/nonexistent' };

describe('KeyringSecretStore', () => {
  it('reports KEYCHAIN_UNAVAILABLE at once when there is no D-Bus session', async () => {
    const store = new KeyringSecretStore({ env: noBus });
    await expect(store.get('ray-connect/c/token')).rejects.toMatchObject({
      code: 'KEYCHAIN_UNAVAILABLE',
      message: expect.stringContaining('D-Bus'),
    });
  });

  it('reports KEYCHAIN_UNAVAILABLE when the bus socket named in the address is gone', async () => {
    const store = new KeyringSecretStore({
      env: { ...noBus, DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/bus' },
    });
    await expect(store.probe()).rejects.toMatchObject({ code: 'KEYCHAIN_UNAVAILABLE' });
  });

  it('kills a keychain call that hangs (locked keyring waiting for a prompt) and reports KEYCHAIN_LOCKED', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rc-hang-'));
    const hanging = join(dir, 'hanging-node');
    writeFileSync(hanging, '#!/bin/sh\nexec /bin/sleep 60\n');
    chmodSync(hanging, 0o755);
    const store = new KeyringSecretStore({
      env: { PATH: '/nonexistent', DBUS_SESSION_BUS_ADDRESS: 'unix:abstract=/tmp/fake' },
      nodePath: hanging,
      timeoutMs: 200,
    });
    await expect(store.get('k')).rejects.toMatchObject({ code: 'KEYCHAIN_LOCKED' });
  });

  it('runs the calls started together in one helper process, in order, each with its own answer', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rc-batch-'));
    const helper = join(dir, 'fake-node');
    const count = join(dir, 'count');
    writeFileSync(
      helper,
      `#!/bin/sh\n/bin/cat > ${dir}/request.json\necho run >> ${count}\n` +
        `echo '{"answers":[{"ok":true,"value":"one"},{"ok":true,"value":null},{"ok":false,"message":"Attribute too long"}]}'\n`,
    );
    chmodSync(helper, 0o755);
    const store = new KeyringSecretStore({
      env: { PATH: '/nonexistent', DBUS_SESSION_BUS_ADDRESS: 'unix:abstract=/tmp/fake' },
      nodePath: helper,
    });
    const [a, b, c] = await Promise.allSettled([
      store.get('k1'),
      store.get('k2'),
      store.set('k3', new Secret('v3')),
    ]);
    expect(a).toMatchObject({ status: 'fulfilled', value: expect.any(Secret) });
    expect(a.status === 'fulfilled' && a.value?.reveal()).toBe('one');
    expect(b).toEqual({ status: 'fulfilled', value: undefined });
    expect(c).toMatchObject({ status: 'rejected', reason: { code: 'SECRET_STORE_FAILED' } });
    expect(readFileSync(count, 'utf8').trim().split('\n')).toHaveLength(1);
    const request = JSON.parse(readFileSync(join(dir, 'request.json'), 'utf8')) as {
      ops: { op: string; account: string }[];
    };
    expect(request.ops.map((o) => `${o.op} ${o.account}`)).toEqual(['get k1', 'get k2', 'set k3']);
  });

  it('a keychain module that cannot be loaded is KEYCHAIN_UNAVAILABLE (so the chooser falls back to memory)', async () => {
    const env = { PATH: '/nonexistent', DBUS_SESSION_BUS_ADDRESS: 'unix:abstract=/tmp/fake' };
    const store = new KeyringSecretStore({ env, modulePath: '/nonexistent/keyring/index.js' });
    await expect(store.get('k')).rejects.toMatchObject({ code: 'KEYCHAIN_UNAVAILABLE' });
    const chosen = await chooseSecretStore({ keyring: { env, modulePath: '/nonexistent/keyring/index.js' } });
    expect(chosen.info.kind).toBe('memory');
  });

  it('maps keyring messages to codes', () => {
    expect(
      mapKeyringMessage("Couldn't access platform storage: Secret Service: unlock prompt was dismissed").code,
    ).toBe('KEYCHAIN_LOCKED');
    expect(
      mapKeyringMessage(
        'Platform secure storage failure: DBus error: The name org.freedesktop.secrets was not provided by any .service files',
      ).code,
    ).toBe('KEYCHAIN_UNAVAILABLE');
    expect(mapKeyringMessage('Attribute too long').code).toBe('SECRET_STORE_FAILED');
  });
});

describe('chooseSecretStore', () => {
  it('falls back to memory and says why when there is no keychain', async () => {
    const store = await chooseSecretStore({ holder: 'the agent', keyring: { env: noBus } });
    expect(store.info).toEqual({
      kind: 'memory',
      label: 'memory only: lost when the agent stops',
      degradedReason:
        'No OS keychain here (no Secret Service). Secrets are kept in memory until the agent stops.',
      degradedCode: 'KEYCHAIN_UNAVAILABLE',
    });
  });

  it('uses the file store only when asked, and memory when asked', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'rc-choose-')), 'secrets.json');
    expect((await chooseSecretStore({ prefer: 'file', filePath: path })).info.kind).toBe('file');
    expect((await chooseSecretStore({ prefer: 'memory' })).info).toEqual({
      kind: 'memory',
      label: 'memory only',
    });
  });
});
