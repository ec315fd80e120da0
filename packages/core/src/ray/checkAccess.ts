import type { AccessCheck, RayClusterSummary } from '@ray-connect/shared';
import { RayConnectError, wrapError } from '../errors.js';
import type { KubeClient } from '../ports/KubeClient.js';
import { asRecord } from './json.js';

export interface ResourceAttributes {
  namespace: string;
  verb: string;
  group: string;
  resource: string;
  name: string;
}

/** One SelfSubjectAccessReview: may the signed-in user do this? */
export async function canI(kube: KubeClient, attributes: ResourceAttributes): Promise<boolean> {
  const review = await kube.request({
    method: 'POST',
    path: '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
    body: {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      spec: { resourceAttributes: attributes },
    },
  });
  return asRecord(asRecord(review)?.status)?.allowed === true;
}

/**
 * Before connecting: can this user get the Ray token? Token mode: `get secrets/<name>`. RBAC mode: `ray:write` on
 * `rayclusters/<c>` (group ray.io), what the Ray head itself asks the API server. No auth: nothing to check.
 * When denied, the error names the exact Role and RoleBinding to ask an admin for.
 */
export async function checkAccess(
  summary: RayClusterSummary,
  kube: KubeClient,
  username?: string,
): Promise<AccessCheck> {
  const { namespace, name, tokenSource } = summary;
  let attributes: ResourceAttributes;
  if (summary.authMode === 'kubernetes' || tokenSource.kind === 'kubernetes-identity') {
    attributes = { namespace, verb: 'ray:write', group: 'ray.io', resource: 'rayclusters', name };
  } else if (tokenSource.kind === 'secret') {
    attributes = { namespace, verb: 'get', group: '', resource: 'secrets', name: tokenSource.secretName };
  } else {
    return { allowed: true, checked: [] };
  }
  const checked = [describe(attributes)];
  let allowed: boolean;
  try {
    allowed = await canI(kube, attributes);
  } catch (e) {
    throw wrapError(e, `Checking ${checked[0]} in namespace ${namespace}`);
  }
  if (allowed) return { allowed, checked };
  return { allowed, checked, error: accessDenied(attributes, summary.name, username).toInfo() };
}

function describe(a: ResourceAttributes): string {
  return a.resource === 'secrets' ? `get secrets/${a.name}` : `${a.verb} on ${a.resource}/${a.name}`;
}

/** The message and the exact RBAC to ask for. */
export function accessDenied(a: ResourceAttributes, cluster: string, username?: string): RayConnectError {
  const who = username ?? '<your user>';
  const ns = a.namespace;
  const rbac = a.verb === 'ray:write';
  const role = rbac ? `ray-user-${cluster}` : `ray-token-reader-${cluster}`;
  const resource = rbac ? 'rayclusters.ray.io' : 'secrets';
  const createRole = `kubectl create role ${role} -n ${ns} --verb=${a.verb} --resource=${resource} --resource-name=${a.name}`;
  const bind = `kubectl create rolebinding ${role} -n ${ns} --role=${role} --user=${who}`;
  const message = rbac
    ? `You may not use Ray cluster ${cluster}: it checks Kubernetes RBAC and you lack ray:write on rayclusters/${a.name} (group ray.io) in namespace ${ns}`
    : `You may not read the Ray token of ${cluster}: get on secrets/${a.name} in namespace ${ns} is denied`;
  const cache = rbac
    ? ' Ray caches allowed checks for 5 minutes, so a revoked binding can keep working that long.'
    : '';
  return new RayConnectError('ACCESS_DENIED', message, {
    fix: `Ask a namespace admin to run: ${createRole} && ${bind}.${cache}`,
    details: { namespace: ns, verb: a.verb, group: a.group, resource: a.resource, name: a.name },
  });
}
