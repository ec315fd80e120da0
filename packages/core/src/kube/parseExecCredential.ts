import { basename } from 'node:path';
import { RayConnectError } from '../errors.js';
import { Secret } from '../secret.js';
import type { Credential } from './credential.js';

/**
 * Parses an exec plugin's stdout (ExecCredential, client.authentication.k8s.io v1 or v1beta1).
 * Errors never quote the output: it holds the credential.
 */
export function parseExecCredential(stdout: string, command: string, apiVersion: string): Credential {
  const name = basename(command);
  const fail = (problem: string): never => {
    throw new RayConnectError('EXEC_PLUGIN_FAILED', `The credential plugin ${name} returned ${problem}.`, {
      fix: `Run ${name} in a terminal and check that it prints an ExecCredential (${apiVersion}).`,
      details: { command: name, apiVersion },
    });
  };
  let doc: unknown;
  try {
    doc = JSON.parse(stdout);
  } catch {
    return fail('output that is not JSON');
  }
  if (typeof doc !== 'object' || doc === null) return fail('output that is not an ExecCredential');
  const o = doc as Record<string, unknown>;
  if (o.kind !== 'ExecCredential')
    return fail(`kind ${JSON.stringify(o.kind ?? null)} instead of ExecCredential`);
  if (o.apiVersion !== apiVersion)
    return fail(
      `apiVersion ${JSON.stringify(o.apiVersion ?? null)}, but the kubeconfig asks for ${apiVersion}`,
    );
  const status = o.status;
  if (typeof status !== 'object' || status === null) return fail('an ExecCredential without status');
  const s = status as Record<string, unknown>;
  const credential: Credential = {};
  if (s.token !== undefined) {
    if (typeof s.token !== 'string' || s.token === '') return fail('an empty or non-string status.token');
    credential.token = new Secret(s.token);
  }
  if (s.clientCertificateData !== undefined || s.clientKeyData !== undefined) {
    if (typeof s.clientCertificateData !== 'string' || typeof s.clientKeyData !== 'string')
      return fail('status.clientCertificateData without status.clientKeyData (both are needed)');
    credential.clientCert = { cert: s.clientCertificateData, key: new Secret(s.clientKeyData) };
  }
  if (!credential.token && !credential.clientCert)
    return fail('neither status.token nor a client certificate');
  if (s.expirationTimestamp !== undefined && s.expirationTimestamp !== null) {
    const at = typeof s.expirationTimestamp === 'string' ? Date.parse(s.expirationTimestamp) : NaN;
    if (Number.isNaN(at)) return fail('an invalid status.expirationTimestamp');
    credential.expiresAt = at;
  }
  return credential;
}
