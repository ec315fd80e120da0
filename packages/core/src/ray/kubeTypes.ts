/**
 * The few fields of Kubernetes and KubeRay objects that Ray access reads. Everything is optional:
 * objects come from the API server as untrusted JSON and the parser checks each field it uses.
 */
export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  deletionTimestamp?: string;
}

export interface EnvVar {
  name?: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name?: string; key?: string } };
}

export interface EnvFromSource {
  secretRef?: { name?: string };
  configMapRef?: { name?: string };
  prefix?: string;
}

export interface Container {
  name?: string;
  env?: EnvVar[];
  envFrom?: EnvFromSource[];
  ports?: { name?: string; containerPort?: number }[];
}

export interface PodTemplate {
  metadata?: ObjectMeta;
  spec?: { containers?: Container[] };
}

export interface Condition {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
}

export interface RayCluster {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec?: {
    rayVersion?: string;
    suspend?: boolean;
    authOptions?: { mode?: string; secretName?: string; enableK8sTokenAuth?: boolean };
    headGroupSpec?: { template?: PodTemplate };
  };
  status?: {
    state?: string;
    reason?: string;
    conditions?: Condition[];
    head?: { podName?: string; serviceName?: string; podIP?: string };
    endpoints?: Record<string, string>;
  };
}

export interface Pod {
  metadata?: ObjectMeta;
  spec?: { containers?: Container[] };
  status?: { phase?: string; conditions?: Condition[]; podIP?: string };
}

export interface KubeList<T> {
  items?: T[];
}

export const RAY_GROUP = 'ray.io';
export const RAY_VERSION = 'v1';

export function rayClustersPath(namespace: string, name?: string): string {
  const base = `/apis/${RAY_GROUP}/${RAY_VERSION}/namespaces/${encodeURIComponent(namespace)}/rayclusters`;
  return name === undefined ? base : `${base}/${encodeURIComponent(name)}`;
}

export function podsPath(namespace: string, name?: string): string {
  const base = `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`;
  return name === undefined ? base : `${base}/${encodeURIComponent(name)}`;
}
