// A separate process that refreshes a shared sign-in through the built core (for twoProcesses.test.ts).
// argv: <core URL> <go file>; stdin: JSON { storePath | keychainEnv, configDir, clusterId, aheadMs, server, caFile }.
// Prints "ready", waits for <go file>, then asks the API server who it is with the (refreshed) credential.
import { existsSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

const [coreUrl, goFile] = process.argv.slice(2);
const core = await import(coreUrl);
let input = '';
for await (const chunk of process.stdin) input += chunk;
const job = JSON.parse(input);
const store = job.keychainEnv
  ? new core.KeyringSecretStore({ env: { ...process.env, ...job.keychainEnv } })
  : new core.FileSecretStore(job.storePath);
const clock = { now: () => Date.now() + job.aheadMs, sleep: (ms) => sleep(ms) };
const credential = core.sessionCredentialSource(job.clusterId, { store, configDir: job.configDir, clock });
const client = core.createKubeClient({
  server: job.server,
  ca: readFileSync(job.caFile, 'utf8'),
  credential,
});
process.stdout.write('ready\n');
while (!existsSync(goFile)) await sleep(2);
try {
  const identity = await core.whoAmI(client);
  const session = await new core.SessionStore(store).load(job.clusterId);
  process.stdout.write(
    JSON.stringify({ ok: true, username: identity.username, refreshedAt: session?.info.refreshedAt }) + '\n',
  );
} catch (e) {
  process.stdout.write(JSON.stringify({ ok: false, code: e.code, message: e.message }) + '\n');
}
