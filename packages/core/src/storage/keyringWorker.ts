/**
 * The program a short-lived child process runs to talk to the OS keychain through @napi-rs/keyring.
 * Keychain calls live in a child so that a locked keyring (which can wait forever for an unlock prompt)
 * never hangs the caller: the parent kills the child after a timeout. The request, including any secret,
 * arrives on stdin as JSON (never argv); the answer leaves on stdout as one JSON line.
 * On Linux every entry is pinned to Secret Service, so we never fall back to the kernel keyring silently.
 */
export const KEYRING_WORKER_SOURCE = `
'use strict';
const chunks = [];
process.stdin.on('data', (c) => chunks.push(c));
process.stdin.on('end', async () => {
  let out;
  try {
    const req = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    const k = require(req.modulePath);
    const options = { linux: { store: 'secret-service' } };
    const entry = (account) => new k.AsyncEntry(req.service, account, options);
    if (req.op === 'get') out = { ok: true, value: (await entry(req.account).getPassword()) ?? null };
    else if (req.op === 'set') { await entry(req.account).setPassword(req.value); out = { ok: true }; }
    else if (req.op === 'delete') out = { ok: true, deleted: await entry(req.account).deleteCredential() };
    else if (req.op === 'list') out = { ok: true, accounts: (await k.findCredentialsAsync(req.service)).map((c) => c.account) };
    else if (req.op === 'probe') {
      await entry(req.account).setPassword('probe');
      await entry(req.account).deleteCredential();
      out = { ok: true };
    } else out = { ok: false, message: 'unknown operation' };
  } catch (err) {
    out = { ok: false, message: String((err && err.message) || err), code: err && err.code };
  }
  process.stdout.write(JSON.stringify(out) + '\\n', () => process.exit(0));
});
`;
