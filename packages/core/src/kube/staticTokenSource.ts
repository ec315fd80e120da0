import type { Secret } from '../secret.js';
import type { Credential, CredentialSource } from './credential.js';
import { jwtExpiry } from './jwtExpiry.js';

/** A fixed bearer token (kubeconfig `token`, a pasted token). A JWT's `exp` becomes `expiresAt`. */
export function staticTokenSource(token: Secret, description = 'token'): CredentialSource {
  const expiresAt = jwtExpiry(token.reveal());
  const credential: Credential = expiresAt === undefined ? { token } : { token, expiresAt };
  return {
    description,
    get: () => Promise.resolve(credential),
  };
}
