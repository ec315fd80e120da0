/** Ray versions: token auth needs >= 2.52, Kubernetes RBAC mode >= 2.55 (ray-auth.md section 4). */
export const MIN_TOKEN_RAY = [2, 52] as const;
export const MIN_K8S_RAY = [2, 55] as const;

/** `2.53.0`, `2.53.0rc1`, `rayproject/ray:2.53.0-py311` -> [2, 53]; `nightly`, `latest` -> undefined. */
export function parseRayVersion(text: string | undefined): [number, number] | undefined {
  if (text === undefined) return undefined;
  const tag = text.includes(':') ? text.slice(text.lastIndexOf(':') + 1) : text;
  const m = /^v?(\d+)\.(\d+)/.exec(tag);
  if (!m) return undefined;
  return [Number(m[1]), Number(m[2])];
}

export function isAtLeast(v: readonly [number, number], min: readonly [number, number]): boolean {
  return v[0] > min[0] || (v[0] === min[0] && v[1] >= min[1]);
}
