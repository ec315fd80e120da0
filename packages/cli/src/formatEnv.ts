/** Shell syntaxes for `ray-connect env --format`. */
export const ENV_FORMATS = ['sh', 'json', 'dotenv', 'fish', 'powershell'] as const;
export type EnvFormat = (typeof ENV_FORMATS)[number];

export function isEnvFormat(v: string): v is EnvFormat {
  return (ENV_FORMATS as readonly string[]).includes(v);
}

/** Renders env for `eval "$(ray-connect env c)"` (sh), fish's `| source`, PowerShell's `| Invoke-Expression`, .env files, JSON. */
export function formatEnv(env: Record<string, string>, format: EnvFormat): string {
  const entries = Object.entries(env);
  switch (format) {
    case 'json':
      return JSON.stringify(env, null, 2) + '\n';
    case 'dotenv':
      return entries.map(([k, v]) => `${k}=${dq(v)}\n`).join('');
    case 'fish':
      return entries.map(([k, v]) => `set -gx ${k} ${sq(v)};\n`).join('');
    case 'powershell':
      return entries.map(([k, v]) => `$env:${k} = '${v.replace(/'/g, "''")}'\n`).join('');
    case 'sh':
      return entries.map(([k, v]) => `export ${k}=${sq(v)}\n`).join('');
  }
}

/** POSIX single quotes: nothing inside is special; a ' becomes '\''. */
function sq(v: string): string {
  return `'${v.replace(/'/g, `'\\''`)}'`;
}

/** dotenv double quotes with \ " $ and newlines escaped. */
function dq(v: string): string {
  return `"${v.replace(/[\\"$]/g, (c) => `\\${c}`).replace(/\n/g, '\\n')}"`;
}
