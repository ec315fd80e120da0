// Runs inside a D-Bus session (or none) for keychain.test.ts, using the built core. Prints one JSON object.
// argv: <core URL> <scenario>: roundtrip | locked | locked-display | no-secret-service | no-dbus
import { execFileSync } from 'node:child_process';

const [coreUrl, scenario] = process.argv.slice(2);
const core = await import(coreUrl);
const out = {};
const codeOf = (p) =>
  p.then(
    () => 'ok',
    (e) => e.code ?? String(e),
  );
const noDbusSend = { ...process.env, PATH: '/nonexistent' };

function lockDefaultCollection() {
  execFileSync('dbus-send', [
    '--session',
    '--print-reply',
    '--dest=org.freedesktop.secrets',
    '/org/freedesktop/secrets',
    'org.freedesktop.Secret.Service.Lock',
    'array:objpath:/org/freedesktop/secrets/aliases/default',
  ]);
}

if (scenario === 'roundtrip') {
  const store = await core.chooseSecretStore({ holder: 'the test' });
  out.info = store.info;
  const sessions = new core.SessionStore(store);
  const info = {
    clusterId: 'url:https://127.0.0.1:6443',
    method: 'device',
    issuer: 'https://127.0.0.1:5556',
    clientId: 'kubernetes',
    signedInAt: Date.now(),
    refreshable: true,
  };
  await sessions.save({
    info,
    token: new core.Secret('id-token-value'),
    refreshToken: new core.Secret('refresh-token-value'),
  });
  const loaded = await sessions.load(info.clusterId);
  out.loaded = {
    token: loaded?.token.reveal() === 'id-token-value',
    refreshToken: loaded?.refreshToken?.reveal() === 'refresh-token-value',
  };
  out.keys = await store.keys('ray-connect/');
  // The items are in Secret Service (not the kernel keyring): libsecret's own tool sees them.
  out.secretToolSees = execFileSync('secret-tool', ['search', '--all', 'service', 'ray-connect'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  }).includes('ray-connect/');
  out.signOut = await core.signOut(info.clusterId, { store });
  out.keysAfter = await store.keys('ray-connect/');
} else if (scenario === 'locked' || scenario === 'locked-display') {
  await new core.KeyringSecretStore().set('ray-connect/c/token', new core.Secret('x'));
  lockDefaultCollection();
  if (scenario === 'locked') {
    out.withDbusSend = await codeOf(new core.KeyringSecretStore().get('ray-connect/c/token'));
    out.withoutDbusSend = await codeOf(
      new core.KeyringSecretStore({ env: noDbusSend }).set('ray-connect/c/token', new core.Secret('y')),
    );
    out.chosen = (await core.chooseSecretStore({ holder: 'the test' })).info;
  } else {
    // A display is reachable, so the unlock prompt waits for a person forever: only our timeout ends it.
    out.withoutDbusSend = await codeOf(
      new core.KeyringSecretStore({ env: noDbusSend, timeoutMs: 3000 }).set(
        'ray-connect/c/token',
        new core.Secret('y'),
      ),
    );
  }
} else if (scenario === 'no-secret-service' || scenario === 'no-dbus') {
  out.probe = await codeOf(new core.KeyringSecretStore({ env: noDbusSend }).probe());
  out.chosen = (await core.chooseSecretStore({ holder: 'the test', keyring: { env: noDbusSend } })).info;
}
process.stdout.write(JSON.stringify(out) + '\n');
