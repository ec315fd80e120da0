#!/usr/bin/env node
// Exec credential plugin for the integration tests: a real ServiceAccount token from the sandbox (TokenRequest),
// announced with a short expirationTimestamp so the client must run us again. Env (from the kubeconfig exec env):
// COUNT_FILE: one 'x' per run; INFO_FILE: KUBERNETES_EXEC_INFO as received; EXPIRES_IN_MS: default 1500.
import { appendFileSync, writeFileSync } from 'node:fs';
import { createToken, readSandbox } from '../../../sandbox/client.mjs';

const env = process.env;
if (env.COUNT_FILE) appendFileSync(env.COUNT_FILE, 'x');
if (env.INFO_FILE) writeFileSync(env.INFO_FILE, env.KUBERNETES_EXEC_INFO ?? '');
const sa = readSandbox().serviceAccounts.rayUser;
const token = await createToken(sa.namespace, sa.name);
const expirationTimestamp = new Date(Date.now() + Number(env.EXPIRES_IN_MS ?? 1500)).toISOString();
process.stdout.write(
  JSON.stringify({
    apiVersion: 'client.authentication.k8s.io/v1',
    kind: 'ExecCredential',
    status: { token, expirationTimestamp },
  }),
);
