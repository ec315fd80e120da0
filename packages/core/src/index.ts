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

// sign-in
export type { SignInDeps, IdentityCheck } from './auth/deps.js';
export type { ClusterTarget } from './auth/clusterIdentityCheck.js';
export { clusterIdentityCheck } from './auth/clusterIdentityCheck.js';
export type { IdpSettings } from './auth/idp.js';
export { DEFAULT_SCOPES, discoverIdp } from './auth/idp.js';
export type { IdpTlsOptions } from './auth/http.js';
export type { Session, SessionInfo, SessionMethod } from './auth/session.js';
export { signInStateOf } from './auth/session.js';
export { SessionStore } from './auth/sessionStore.js';
export type { DeviceSignIn, DeviceSignInInput } from './auth/deviceSignIn.js';
export { startDeviceSignIn } from './auth/deviceSignIn.js';
export type { BrowserSignIn, BrowserSignInInput } from './auth/browserSignIn.js';
export { startBrowserSignIn } from './auth/browserSignIn.js';
export type { OpenShiftSignIn, OpenShiftSignInInput } from './auth/openshiftSignIn.js';
export {
  startOpenShiftSignIn,
  discoverOpenShiftOAuth,
  openShiftTokenRequestUrl,
  OPENSHIFT_CLI_CLIENT,
} from './auth/openshiftSignIn.js';
export type { TokenSignInInput } from './auth/tokenSignIn.js';
export { signInWithToken } from './auth/tokenSignIn.js';
export type { SignOutResult } from './auth/signOut.js';
export { signOut } from './auth/signOut.js';
export type { RefreshDeps } from './auth/refreshSession.js';
export { refreshSession, refreshMarginMs } from './auth/refreshSession.js';
export { sessionCredentialSource } from './auth/sessionCredentialSource.js';
export type { FileLockOptions } from './auth/fileLock.js';
export { withFileLock } from './auth/fileLock.js';

// secret storage
export type { KeyringSecretStoreOptions } from './storage/keyringSecretStore.js';
export { KeyringSecretStore } from './storage/keyringSecretStore.js';
export { FileSecretStore } from './storage/fileSecretStore.js';
export type { ChooseSecretStoreOptions } from './storage/chooseSecretStore.js';
export { chooseSecretStore, tildePath } from './storage/chooseSecretStore.js';
export { clusterPrefix, clusterKey } from './storage/keys.js';
export { defaultConfigDir } from './storage/paths.js';

// kubeconfig and API access
export type {
  KubeconfigView,
  NamedEntry,
  KubeCluster,
  KubeContext,
  KubeUser,
  KubeExecConfig,
  KubeAuthProvider,
  ResolvedContext,
} from './kube/kubeconfigTypes.js';
export type { LoadKubeconfigInput } from './kube/loadKubeconfig.js';
export { loadKubeconfig } from './kube/loadKubeconfig.js';
export { resolveContext } from './kube/resolveContext.js';
export type { ReadTextFile } from './kube/readTextFile.js';
export { nodeReadTextFile } from './kube/readTextFile.js';
export type { Credential, CredentialSource } from './kube/credential.js';
export { staticTokenSource } from './kube/staticTokenSource.js';
export type { TokenFileSourceOptions } from './kube/tokenFileSource.js';
export { tokenFileSource } from './kube/tokenFileSource.js';
export type { ClientCertSourceOptions, PemInput } from './kube/clientCertSource.js';
export { clientCertSource } from './kube/clientCertSource.js';
export type { ExecCredentialSourceOptions, ExecClusterInfo } from './kube/execCredentialSource.js';
export { execCredentialSource } from './kube/execCredentialSource.js';
export type { OidcAuthProviderSourceOptions } from './kube/oidcAuthProviderSource.js';
export { oidcAuthProviderSource } from './kube/oidcAuthProviderSource.js';
export type { InClusterConfig, InClusterInput } from './kube/inClusterConfig.js';
export { inClusterConfig } from './kube/inClusterConfig.js';
export type { CredentialSourceDeps } from './kube/credentialSourceForUser.js';
export { credentialSourceForUser } from './kube/credentialSourceForUser.js';
export type {
  CreateKubeClientOptions,
  KubeFetch,
  KubeFetchInit,
  KubeFetchResponse,
} from './kube/createKubeClient.js';
export { createKubeClient } from './kube/createKubeClient.js';
export type { KubeClientFromContextOptions } from './kube/createKubeClientFromContext.js';
export { createKubeClientFromContext } from './kube/createKubeClientFromContext.js';
export type { ResolvedCa, ResolveCaInput, CaSource } from './kube/resolveCa.js';
export { resolveCa } from './kube/resolveCa.js';
export { whoAmI } from './kube/whoAmI.js';
export type { AccessAttributes, AccessAnswer } from './kube/canI.js';
export { canI } from './kube/canI.js';

// ray clusters: discovery, access, token
export { parseRayCluster, headPorts } from './ray/parseRayCluster.js';
export { checkName } from './ray/checkName.js';
export type { ListRayClustersInput, ListRayClustersDeps } from './ray/listRayClusters.js';
export { ALL_NAMESPACES, listRayClusters } from './ray/listRayClusters.js';
export { getRayCluster } from './ray/getRayCluster.js';
export { findHeadPod } from './ray/findHeadPod.js';
export type { HeadPod } from './ray/findHeadPod.js';
export { checkAccess, accessDenied } from './ray/checkAccess.js';
export type { RayToken } from './ray/getRayToken.js';
export { getRayToken } from './ray/getRayToken.js';

// port-forward and connection
export type { ForwardPortInput, ForwardPortDeps, PortForward } from './ray/forwardPort.js';
export { forwardPort } from './ray/forwardPort.js';
export type { PortForwardSink, PortForwardSocket } from './ray/portForwardSocket.js';
export { openPortForward, PORT_FORWARD_PROTOCOL } from './ray/openPortForward.js';
export type { HeadSupervisor, HeadState, SuperviseHeadDeps } from './ray/superviseHead.js';
export { superviseHead } from './ray/superviseHead.js';
export { probeAuthMode, verifyRayToken } from './ray/probeRay.js';
export type { ConnectRayClusterDeps, RayConnection } from './ray/connectRayCluster.js';
export { connectRayCluster } from './ray/connectRayCluster.js';
export { FakeKubeClient } from './ray/fakeKubeClient.js';

// session env
export type { SessionEnvInput } from './ray/buildSessionEnv.js';
export { buildSessionEnv } from './ray/buildSessionEnv.js';

// the facade (RayConnectApi)
export type { RayConnectDeps } from './app/deps.js';
export type { RayConnect } from './app/createRayConnect.js';
export { createRayConnect } from './app/createRayConnect.js';
