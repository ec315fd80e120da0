/**
 * The Python run silently in a kernel to set (and unset) the Ray environment. A JSON object of strings is a valid
 * Python dict literal, so values need no other quoting. Names are checked so nothing but env names reaches Python.
 */
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function kernelEnvCode(set: Record<string, string>, unset: string[] = []): string {
  for (const n of [...Object.keys(set), ...unset])
    if (!NAME.test(n)) throw new Error(`not an environment variable name: ${n}`);
  const lines = ['import os as _rc_os'];
  if (Object.keys(set).length) lines.push(`_rc_os.environ.update(${JSON.stringify(set)})`);
  if (unset.length) lines.push(`for _rc_k in ${JSON.stringify(unset)}: _rc_os.environ.pop(_rc_k, None)`);
  lines.push('del _rc_os');
  return lines.join('\n');
}
