// The heavy half of the extension, bundled apart as dist/core.js and loaded by dist/extension.js only after
// activate() returned (src/api/loadCore.ts): the core and its protocol libraries (undici, openid-client, ws, yaml,
// the keyring binding). Nothing here runs at activation.
export { createApi } from './api/createApi';
export { VsCodeSecretStore } from './host/secretStore';
