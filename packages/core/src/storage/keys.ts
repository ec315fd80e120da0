/**
 * Secret store keys: `ray-connect/<clusterId>/<what>`, with the cluster id URI-encoded so that ids such as
 * `url:https://host:6443` or `context:a/b` stay one path segment. Sign-out removes everything under the prefix.
 */
export const KEY_ROOT = 'ray-connect';

export function clusterPrefix(clusterId: string): string {
  return `${KEY_ROOT}/${encodeURIComponent(clusterId)}/`;
}

export function clusterKey(clusterId: string, ...parts: string[]): string {
  return clusterPrefix(clusterId) + parts.map((p) => encodeURIComponent(p)).join('/');
}

/** "refresh-token" -> "refresh token": what a key holds, in words, for sign-out reports. */
export function describeKey(key: string): string {
  const what = decodeURIComponent(key.split('/').pop() ?? key);
  const words: Record<string, string> = {
    session: 'sign-in details',
    token: 'Kubernetes token',
    'refresh-token': 'refresh token',
    'client-secret': 'client secret',
  };
  return words[what] ?? what.replace(/-/g, ' ');
}
