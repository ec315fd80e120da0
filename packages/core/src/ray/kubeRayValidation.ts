import type { RayCluster } from './kubeTypes.js';
import { asRecord, asString } from './json.js';
import { isAtLeast, MIN_K8S_RAY, MIN_TOKEN_RAY, parseRayVersion } from './rayVersion.js';

/** KubeRay's MaxRayClusterNameLength: 63 - len("-serve-svc"). */
export const MAX_RAYCLUSTER_NAME = 53;

/**
 * The checks KubeRay's reconciler makes before it touches a RayCluster (utils.ValidateRayClusterMetadata and the
 * auth part of ValidateRayClusterSpec, v1.6/1.7). A RayCluster that fails one gets a Warning event and never a
 * status, pod or Secret. Returns the rule it breaks, in words, or undefined.
 */
export function kubeRayRejects(rc: RayCluster, name: string): string | undefined {
  if (name.length > MAX_RAYCLUSTER_NAME)
    return `its name has ${name.length} characters; KubeRay accepts at most ${MAX_RAYCLUSTER_NAME}`;
  if (!/^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(name))
    return 'its name is not a DNS-1035 label (lowercase letters, digits and "-", starting with a letter)';
  const options = asRecord(asRecord(rc.spec)?.authOptions);
  if (options === undefined) return undefined;
  const k8s = options.enableK8sTokenAuth === true;
  if (asString(options.mode) !== 'token')
    return k8s ? "authOptions.enableK8sTokenAuth is set but authOptions.mode is not 'token'" : undefined;
  const rayVersion = asString(asRecord(rc.spec)?.rayVersion);
  const version = parseRayVersion(rayVersion);
  if (!rayVersion)
    return "authOptions.mode is 'token' but spec.rayVersion is not set (KubeRay needs it, >= 2.52.0)";
  if (version === undefined)
    return `authOptions.mode is 'token' but spec.rayVersion "${rayVersion}" is not a version`;
  if (!isAtLeast(version, MIN_TOKEN_RAY))
    return `authOptions.mode is 'token' but spec.rayVersion is ${rayVersion}; KubeRay needs >= 2.52.0`;
  if (k8s && !isAtLeast(version, MIN_K8S_RAY))
    return `authOptions.enableK8sTokenAuth needs spec.rayVersion >= 2.55.0; it is ${rayVersion}`;
  if (k8s && asString(options.secretName))
    return 'authOptions.enableK8sTokenAuth and authOptions.secretName are both set (they are exclusive)';
  return undefined;
}
