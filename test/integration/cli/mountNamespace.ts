// Runs a command in a private mount namespace (`unshare -m`, root): bind mounts that only this command sees, such
// as an /etc/hosts naming a test host or a service-account directory at /var/run/secrets/kubernetes.io/serviceaccount.
import { spawnSync } from 'node:child_process';

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** A bind mount of `source` (file or directory) on `target`, created inside the namespace when missing. */
export interface Bind {
  source: string;
  target: string;
  /** The target is a directory, made with mkdir -p inside the namespace (files must exist already). */
  directory?: boolean;
}

/**
 * `[command, args]` that run `cmd args...` with the binds applied in a new mount namespace. Targets under /run (and
 * /var/run) get a private tmpfs on /run first, so nothing is created on the host.
 */
export function inMountNamespace(binds: Bind[], cmd: string, args: string[]): [string, string[]] {
  const lines: string[] = [];
  if (binds.some((b) => /^\/(var\/)?run\//.test(b.target)))
    lines.push('mount -t tmpfs -o mode=0755 rc-run /run');
  for (const b of binds) {
    const target = b.target.replace(/^\/var\/run\//, '/run/');
    if (b.directory) lines.push(`mkdir -p ${quote(target)}`);
    lines.push(`mount --bind ${quote(b.source)} ${quote(target)}`);
  }
  lines.push('exec "$@"');
  return ['unshare', ['-m', '--propagation', 'private', 'sh', '-ec', lines.join('\n'), 'sh', cmd, ...args]];
}

/** Why mount namespaces cannot be used here (not root, no unshare), or undefined when they can. */
export function mountNamespaceUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root for unshare -m';
  const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'true'], { encoding: 'utf8' });
  if (r.error || r.status !== 0)
    return `unshare -m does not work here: ${r.error?.message ?? r.stderr.trim()}`;
  return undefined;
}
