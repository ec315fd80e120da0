import { homedir } from 'node:os';
import {
  createRayConnect,
  systemClock,
  type Browser,
  type Logger,
  type RayConnectDeps,
  type SecretStore,
} from '@ray-connect/core';
import type { RayConnectApi } from '@ray-connect/shared';
import { FakeRayConnectApi } from './fakeApi';

/** What the VS Code host gives the core (ARCHITECTURE.md: the extension is a composition root). */
export interface HostDeps {
  secrets: SecretStore;
  logger: Logger;
  browser: Browser;
  /** Non-secret state of the core (added clusters, namespaces, locks, token files): the extension's global storage. */
  configDir: string;
  version: string;
  caFile?: string;
  insecureSkipTlsVerify?: boolean;
  oidc?: { issuer?: string; clientId?: string };
}

export interface CreatedApi {
  api: RayConnectApi;
  fake: boolean;
  /** Stops connections and pending sign-ins (deactivate). */
  close(): Promise<void>;
}

/** The core in-process (`createRayConnect`), or the in-memory demo fake when RAY_CONNECT_FAKE=1. */
export function createApi(deps: HostDeps): CreatedApi {
  if (process.env.RAY_CONNECT_FAKE === '1') {
    deps.logger.warn('RAY_CONNECT_FAKE=1: using demo data, no cluster is contacted');
    return { api: new FakeRayConnectApi(), fake: true, close: async () => undefined };
  }
  const input: RayConnectDeps = {
    store: deps.secrets,
    logger: deps.logger,
    clock: systemClock,
    browser: deps.browser,
    configDir: deps.configDir,
    env: process.env,
    homedir: homedir(),
    version: deps.version,
  };
  if (deps.caFile) input.caFile = deps.caFile;
  if (deps.insecureSkipTlsVerify) input.insecureSkipTlsVerify = true;
  if (deps.oidc?.issuer || deps.oidc?.clientId) input.oidc = deps.oidc;
  const api = createRayConnect(input);
  return { api, fake: false, close: () => api.close() };
}
