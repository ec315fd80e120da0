/**
 * The name KubeRay gives the Secret it generates for a RayCluster in token mode (KubeRay `utils.CheckName`):
 * longer than 50 characters keeps the LAST 50; a leading digit, then a leading punctuation mark, becomes `r`.
 * `kubectl ray get token` looks only for `<name>`; we follow the operator.
 */
export function checkName(name: string): string {
  const maxLength = 50;
  let s = name.length > maxLength ? name.slice(name.length - maxLength) : name;
  if (s.length === 0) return s;
  if (/^[0-9]/.test(s)) s = 'r' + s.slice(1);
  // Go's unicode.IsPunct for ASCII (symbols such as + $ = are not punctuation there).
  if (/^[!"#%&'()*,\-./:;?@[\\\]_{}]/.test(s)) s = 'r' + s.slice(1);
  return s;
}
