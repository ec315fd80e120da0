#!/usr/bin/env node
// A small exec credential plugin for tests. Behaviour from env (set through the kubeconfig exec `env`):
// PLUGIN_MODE: token (default) | garbage | fail | hang | wrong-kind | no-token
// COUNT_FILE: one 'x' appended per run; INFO_FILE: KUBERNETES_EXEC_INFO and stdin's TTY state written here;
// EXPIRES_AT: status.expirationTimestamp; API_VERSION: apiVersion to answer with.
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';

const env = process.env;
let run = 1;
if (env.COUNT_FILE) {
  appendFileSync(env.COUNT_FILE, 'x');
  run = readFileSync(env.COUNT_FILE, 'utf8').length;
}
if (env.INFO_FILE) writeFileSync(env.INFO_FILE, JSON.stringify({ info: env.KUBERNETES_EXEC_INFO, stdinIsTTY: Boolean(process.stdin.isTTY), foo: env.FOO }));
const apiVersion = env.API_VERSION ?? 'client.authentication.k8s.io/v1';
const mode = env.PLUGIN_MODE ?? 'token';

if (mode === 'garbage') {
  process.stdout.write('placeholder-secret-in-garbage <html>not json');
  process.stderr.write('warning: something odd\nsecond line\n');
} else if (mode === 'fail') {
  process.stderr.write('\nerror: you must be logged in to the server\nmore detail\n');
  process.exit(3);
} else if (mode === 'hang') {
  setInterval(() => {}, 1000);
} else if (mode === 'wrong-kind') {
  process.stdout.write(JSON.stringify({ kind: 'Secret', apiVersion, status: { token: 'placeholder-secret' } }));
} else if (mode === 'no-token') {
  process.stdout.write(JSON.stringify({ kind: 'ExecCredential', apiVersion, status: {} }));
} else {
  const status = { token: `tok-${run}` };
  if (env.EXPIRES_AT) status.expirationTimestamp = env.EXPIRES_AT;
  process.stdout.write(JSON.stringify({ kind: 'ExecCredential', apiVersion, status }));
}
