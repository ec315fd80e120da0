// What `env --json` prints and client.readSandbox() returns: built from the state `up` records.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLUSTERS, NAMESPACE } from './objects.mjs';
import { kubeconfigs, STATIC_USERS, staticTokenFile } from './kube.mjs';
import { USERS, usersFile } from './oidc.mjs';
import { pki } from './pki.mjs';
import { bin, paths, readJson } from './util.mjs';

export const rayTokenFile = join(paths.secrets, 'ray-token');
export const headSaTokenFile = join(paths.secrets, 'ray-head-sa.token');

export function readState() {
  return readJson(paths.stateFile);
}

export function buildEnv(state = readState()) {
  if (!state) throw new Error(`the sandbox has not been started (no ${paths.stateFile}): run \`pnpm sandbox up\``);
  const users = existsSync(usersFile) ? JSON.parse(readFileSync(usersFile, 'utf8')) : {};
  return {
    dir: paths.state,
    apiServer: state.apiServer,
    caFile: pki.ca,
    adminKubeconfig: kubeconfigs.admin,
    kubectl: bin('kubectl'),
    namespace: NAMESPACE,
    ports: state.ports,
    oidc: { issuer: state.issuer, clientId: 'kubernetes', caFile: pki.ca, tokenTtlSeconds: state.tokenTtlSeconds, openshiftDiscovery: `${state.issuer}/.well-known/oauth-authorization-server` },
    users: Object.fromEntries(
      Object.keys(USERS).map((name) => [name, { username: name, password: users[name]?.password, kubeUsername: `oidc:${name}`, groups: USERS[name].groups, kubeGroups: USERS[name].groups.map((g) => `oidc:${g}`), email: USERS[name].email }]),
    ),
    staticUsers: Object.fromEntries(Object.entries(STATIC_USERS).map(([k, u]) => [k, { username: u.username, groups: u.groups, tokenFile: staticTokenFile(k) }])),
    serviceAccounts: { rayUser: { namespace: NAMESPACE, name: 'ray-user' }, rayHead: { namespace: NAMESPACE, name: 'ray-head' } },
    rayClusters: Object.fromEntries(Object.entries(CLUSTERS).map(([k, c]) => [k, c.name])),
    rayClusterDetails: state.rayClusters ?? {},
    rayHeads: state.rayHeads ?? {},
    rayHeadsError: state.rayHeadsError,
    rayTokenFile,
  };
}
