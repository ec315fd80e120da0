import * as core from '@ray-connect/core';
import type { Browser, Logger, SecretStore } from '@ray-connect/core';
import type { RayConnectApi } from '@ray-connect/shared';
import { FakeRayConnectApi } from './fakeApi';

/** What the VS Code host gives the core (ARCHITECTURE.md: the extension is a composition root). */
export interface HostDeps {
  secrets: SecretStore;
  logger: Logger;
  browser: Browser;
  /** Settings the core honours. */
  caFile?: string;
  insecureSkipTlsVerify?: boolean;
  namespaces?: string[];
}

type Factory = (deps: Record<string, unknown>) => RayConnectApi | Promise<RayConnectApi>;

/**
 * The core in-process (`createRayConnect` from @ray-connect/core), or the in-memory fake when RAY_CONNECT_FAKE=1
 * or when this build of the core does not have it yet (said in the log).
 */
export async function createApi(deps: HostDeps): Promise<{ api: RayConnectApi; fake: boolean }> {
  const factory = (core as unknown as { createRayConnect?: Factory }).createRayConnect;
  if (process.env.RAY_CONNECT_FAKE === '1' || typeof factory !== 'function') {
    deps.logger.warn(
      typeof factory === 'function'
        ? 'RAY_CONNECT_FAKE=1: using demo data, no cluster is contacted'
        : 'this build has no Ray Connect core (createRayConnect); using demo data',
    );
    return { api: new FakeRayConnectApi(), fake: true };
  }
  const input: Record<string, unknown> = {
    secrets: deps.secrets,
    logger: deps.logger,
    browser: deps.browser,
    secretStore: deps.secrets,
    log: deps.logger,
  };
  if (deps.caFile) input.caFile = deps.caFile;
  if (deps.insecureSkipTlsVerify) input.insecureSkipTlsVerify = true;
  if (deps.namespaces?.length) input.namespaces = deps.namespaces;
  return { api: await factory(input), fake: false };
}
