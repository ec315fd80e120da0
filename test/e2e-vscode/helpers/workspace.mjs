// Per-run files: a kubeconfig for the sandbox (one context, no credentials: the user signs in through the
// extension), and a workspace folder whose settings point the extension at the sandbox CA and identity provider.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function writeKubeconfig(file, sandbox) {
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      { name: 'sandbox', cluster: { server: sandbox.apiServer, 'certificate-authority': sandbox.caFile } },
    ],
    users: [{ name: 'sandbox-user', user: {} }],
    contexts: [
      {
        name: 'sandbox',
        context: { cluster: 'sandbox', user: 'sandbox-user', namespace: sandbox.namespace },
      },
    ],
    'current-context': 'sandbox',
  };
  writeFileSync(file, JSON.stringify(config, null, 2), { mode: 0o600 });
  return file;
}

export function writeWorkspace(dir, sandbox) {
  mkdirSync(join(dir, '.vscode'), { recursive: true });
  const settings = {
    'rayConnect.caFile': sandbox.caFile,
    'rayConnect.oidc.issuer': sandbox.oidc.issuer,
    'rayConnect.oidc.clientId': sandbox.oidc.clientId,
    'rayConnect.logLevel': 'debug',
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'extensions.ignoreRecommendations': true,
    'terminal.integrated.defaultProfile.linux': 'bash',
    'terminal.integrated.enablePersistentSessions': false,
    'terminal.integrated.shellIntegration.enabled': false,
  };
  writeFileSync(join(dir, '.vscode', 'settings.json'), JSON.stringify(settings, null, 2));
  writeFileSync(join(dir, 'README.md'), '# Ray Connect e2e workspace\n');
  return dir;
}
