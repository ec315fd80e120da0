import type { RayClusterSummary } from '@ray-connect/shared';
import { RayConnectError, wrapError } from '../errors.js';
import type { KubeClient } from '../ports/KubeClient.js';
import { Secret } from '../secret.js';
import { accessDenied } from './checkAccess.js';
import { asArray, asRecord, asString } from './json.js';
import { type RayCluster, rayClustersPath } from './kubeTypes.js';
import { kubeStatus } from './kubeStatus.js';
import { checkName } from './checkName.js';
import { headContainer, TOKEN_KEY } from './rayAuthMode.js';

export interface RayToken {
  token: Secret;
  /** Epoch ms (RBAC mode: expiry of the user's Kubernetes token). */
  expiresAt?: number;
}

/**
 * The Ray token of a cluster: its Secret (`secretName ?? checkName(name)`, key auth_token, or a legacy
 * secretKeyRef), a literal in the head env, or in RBAC mode the user's current Kubernetes bearer token.
 * Tokens are passed through as stored (KubeRay's contain + / =); only surrounding whitespace is trimmed, as Ray does.
 * Returns undefined for clusters without auth.
 */
export async function getRayToken(
  summary: RayClusterSummary,
  kube: KubeClient,
): Promise<RayToken | undefined> {
  const { namespace, name, tokenSource: source } = summary;
  switch (source.kind) {
    case 'secret':
      return { token: await readSecretKey(kube, namespace, source.secretName, source.key, name) };
    case 'kubernetes-identity': {
      const bearer = await kube.bearerToken();
      if (bearer === undefined)
        throw new RayConnectError(
          'RAY_TOKEN_NOT_FOUND',
          `Ray cluster ${name} uses Kubernetes RBAC and accepts bearer tokens only, but you are signed in with a client certificate`,
          {
            fix: 'Sign in with a token: ray-connect login --device (or --browser, or --token-stdin)',
            details: { namespace, name },
          },
        );
      return bearer.expiresAt === undefined
        ? { token: bearer.token }
        : { token: bearer.token, expiresAt: bearer.expiresAt };
    }
    case 'head-env-literal':
      return { token: await readLiteral(kube, namespace, name) };
    case 'head-env-file':
      throw new RayConnectError(
        'RAY_TOKEN_NOT_FOUND',
        `Ray cluster ${name} reads its token from a file inside the head pod (${source.path}); it cannot be read through the API`,
        {
          fix: `Ask the cluster owner to put the token in a Secret (spec.authOptions.secretName), or copy it from the pod: kubectl exec -n ${namespace} <head pod> -- cat ${source.path}`,
          details: { namespace, name },
        },
      );
    case 'none':
      if (summary.authMode === 'none') return undefined;
      throw tokenRequired(namespace, name);
  }
}

async function readSecretKey(
  kube: KubeClient,
  namespace: string,
  secretName: string,
  key: string,
  cluster: string,
): Promise<Secret> {
  let object: unknown;
  try {
    object = await kube.request({
      path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets/${encodeURIComponent(secretName)}`,
    });
  } catch (e) {
    const status = kubeStatus(e);
    if (status === 403)
      throw accessDenied(
        { namespace, verb: 'get', group: '', resource: 'secrets', name: secretName },
        cluster,
      );
    if (status === 404)
      throw new RayConnectError(
        'RAY_TOKEN_NOT_FOUND',
        `The token Secret ${secretName} of Ray cluster ${cluster} does not exist in namespace ${namespace}`,
        {
          // KubeRay makes only checkName(cluster) with key auth_token; any other Secret is one the user named.
          fix:
            secretName === checkName(cluster) && key === TOKEN_KEY
              ? `Check that KubeRay created it: kubectl get secret ${secretName} -n ${namespace}`
              : `Create Secret ${secretName} with key ${key}: kubectl create secret generic ${secretName} -n ${namespace} --from-file=${key}=<file with the token>`,
          details: { namespace, name: secretName },
          cause: e,
        },
      );
    throw wrapError(e, `Reading Secret ${namespace}/${secretName}`);
  }
  const encoded = asString(asRecord(asRecord(object)?.data)?.[key]);
  const value = encoded === undefined ? '' : Buffer.from(encoded, 'base64').toString('utf8').trim();
  if (!value)
    throw new RayConnectError(
      'RAY_TOKEN_NOT_FOUND',
      `Secret ${secretName} in namespace ${namespace} has no key ${key}`,
      {
        fix: `Check the Secret: kubectl get secret ${secretName} -n ${namespace} -o jsonpath='{.data}'`,
        details: { namespace, name: secretName, key },
      },
    );
  return new Secret(value);
}

async function readLiteral(kube: KubeClient, namespace: string, name: string): Promise<Secret> {
  const rc = await kube.request<RayCluster>({ path: rayClustersPath(namespace, name) });
  const env = asArray(headContainer(rc)?.env).map(asRecord);
  const value = asString(env.find((e) => e?.name === 'RAY_AUTH_TOKEN')?.value)?.trim();
  if (!value)
    throw new RayConnectError(
      'RAY_TOKEN_NOT_FOUND',
      `Ray cluster ${name} has no RAY_AUTH_TOKEN value on its head container`,
      { details: { namespace, name } },
    );
  return new Secret(value);
}

/**
 * The head wants a token but the RayCluster names none (Ray >= 2.61 turns token auth on by default, so a cluster
 * without authOptions can still require one).
 */
export function tokenRequired(namespace: string, name: string): RayConnectError {
  return new RayConnectError(
    'RAY_TOKEN_NOT_FOUND',
    `Ray cluster ${name} requires a token (token auth is on; Ray >= 2.61 turns it on by default) but its RayCluster does not say where the token is`,
    {
      fix: `Ask the cluster owner to set spec.authOptions: {mode: token} (KubeRay then keeps the token in Secret ${checkName(name)}, key auth_token), or RAY_AUTH_TOKEN on the head container from a Secret (valueFrom.secretKeyRef); then connect again`,
      details: { namespace, name },
    },
  );
}
