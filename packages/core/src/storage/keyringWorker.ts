/**
 * The program a short-lived child process runs to talk to the OS keychain through @napi-rs/keyring.
 * Keychain calls live in a child so that a locked keyring (which can wait forever for an unlock prompt)
 * never hangs the caller: the parent kills the child after a timeout. The request, including any secret,
 * arrives on stdin as JSON (never argv); the answers leave on stdout as one JSON line. One child runs a batch of
 * operations in order (the calls a caller started together), so a session load or save costs one child, not four.
 * On Linux every entry is pinned to Secret Service, so we never fall back to the kernel keyring silently.
 */
export const KEYRING_WORKER_SOURCE = `
'use strict';
const chunks = [];
process.stdin.on('data', (c) => chunks.push(c));
process.stdin.on('end', async () => {
  const req = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  const answers = [];
  let k;
  try {
    k = require(req.modulePath);
  } catch (err) {
    k = undefined;
    for (const _ of req.ops) answers.push({ ok: false, message: String((err && err.message) || err) });
  }
  const options = { linux: { store: 'secret-service' } };
  const entry = (account) => new k.AsyncEntry(req.service, account, options);
  for (const op of k ? req.ops : []) {
    try {
      if (op.op === 'get') answers.push({ ok: true, value: (await entry(op.account).getPassword()) ?? null });
      else if (op.op === 'set') { await entry(op.account).setPassword(op.value); answers.push({ ok: true }); }
      else if (op.op === 'delete') answers.push({ ok: true, deleted: await entry(op.account).deleteCredential() });
      else if (op.op === 'list') answers.push({ ok: true, accounts: (await k.findCredentialsAsync(req.service)).map((c) => c.account) });
      else if (op.op === 'probe') {
        await entry(op.account).setPassword('probe');
        await entry(op.account).deleteCredential();
        answers.push({ ok: true });
      } else answers.push({ ok: false, message: 'unknown operation' });
    } catch (err) {
      answers.push({ ok: false, message: String((err && err.message) || err) });
    }
  }
  process.stdout.write(JSON.stringify({ answers }) + '\\n', () => process.exit(0));
});
`;
