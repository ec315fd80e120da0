import * as vscode from 'vscode';
import { type ConnectPathSetting, SettingIds } from '@ray-connect/shared';
import type { LogLevel } from './logger';

export interface Settings {
  namespaces: string[];
  dashboardPort: number;
  clientPort: number;
  connectionPath: ConnectPathSetting;
  caFile: string;
  insecureSkipTlsVerify: boolean;
  autoConnect: boolean;
  injectTerminals: boolean;
  injectKernels: boolean;
  logLevel: LogLevel;
  oidcIssuer: string;
  oidcClientId: string;
}

function key(id: string): string {
  return id.replace(/^rayConnect\./, '');
}

export function readSettings(): Settings {
  const c = vscode.workspace.getConfiguration('rayConnect');
  return {
    namespaces: c.get<string[]>(key(SettingIds.namespaces), []),
    dashboardPort: c.get<number>(key(SettingIds.dashboardPort), 0),
    clientPort: c.get<number>(key(SettingIds.clientPort), 0),
    connectionPath: c.get<ConnectPathSetting>(key(SettingIds.connectionPath), 'auto'),
    caFile: c.get<string>(key(SettingIds.caFile), ''),
    insecureSkipTlsVerify: c.get<boolean>(key(SettingIds.insecureSkipTlsVerify), false),
    autoConnect: c.get<boolean>(key(SettingIds.autoConnect), false),
    injectTerminals: c.get<boolean>(key(SettingIds.injectTerminals), true),
    injectKernels: c.get<boolean>(key(SettingIds.injectKernels), true),
    logLevel: c.get<LogLevel>(key(SettingIds.logLevel), 'info'),
    oidcIssuer: c.get<string>(key(SettingIds.oidcIssuer), ''),
    oidcClientId: c.get<string>(key(SettingIds.oidcClientId), ''),
  };
}
