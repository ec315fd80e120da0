// The public surface of @ray-connect/core. Named exports only, grouped by topic. No `export *`.

// errors
export { RayConnectError, isRayConnectError, wrapError } from './errors.js';

// secrets
export { Secret, secret } from './secret.js';

// ports (interfaces the hosts implement) and their in-memory fakes
export type { Logger } from './ports/Logger.js';
export { silentLogger, MemoryLogger } from './ports/Logger.js';
export type { Clock } from './ports/Clock.js';
export { systemClock, FakeClock } from './ports/Clock.js';
export type { Browser } from './ports/Browser.js';
export { FakeBrowser } from './ports/Browser.js';
export type { SecretStore, SecretBackendInfo, SecretBackendKind } from './ports/SecretStore.js';
export { MemorySecretStore } from './ports/SecretStore.js';
export type { KubeClient, KubeRequest, KubeIdentity, KubeWebSocketOptions } from './ports/KubeClient.js';
