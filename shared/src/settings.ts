/** Setting ids, the same keys in VS Code settings and the JupyterLab settings registry. */
export const SettingIds = {
  namespaces: 'rayConnect.namespaces',
  dashboardPort: 'rayConnect.dashboardPort',
  clientPort: 'rayConnect.clientPort',
  connectionPath: 'rayConnect.connectionPath',
  caFile: 'rayConnect.caFile',
  insecureSkipTlsVerify: 'rayConnect.insecureSkipTlsVerify',
  autoConnect: 'rayConnect.autoConnect',
  injectTerminals: 'rayConnect.injectTerminals',
  injectKernels: 'rayConnect.injectKernels',
  logLevel: 'rayConnect.logLevel',
  oidcIssuer: 'rayConnect.oidc.issuer',
  oidcClientId: 'rayConnect.oidc.clientId',
} as const;

export type SettingId = (typeof SettingIds)[keyof typeof SettingIds];
