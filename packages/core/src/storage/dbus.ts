import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';

/** The D-Bus session bus address, or undefined when this process has none (typical in containers and pods). */
export function sessionBusAddress(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const address = env['DBUS_SESSION_BUS_ADDRESS'];
  if (address) {
    const path = /unix:path=([^,;]+)/.exec(address)?.[1];
    if (path !== undefined && !existsSync(path)) return undefined;
    return address;
  }
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
  const runtime = env['XDG_RUNTIME_DIR'] || (uid !== undefined ? `/run/user/${uid}` : undefined);
  if (runtime !== undefined && existsSync(`${runtime}/bus`)) return `unix:path=${runtime}/bus`;
  return undefined;
}

/**
 * Asks Secret Service whether the default collection is locked (the `Locked` property), without any prompt.
 * Uses `dbus-send` when it is installed; answers undefined when it cannot tell (no dbus-send, no such
 * collection, no answer within the timeout). Never throws.
 */
export function isDefaultCollectionLocked(
  env: NodeJS.ProcessEnv,
  timeoutMs = 2000,
): Promise<boolean | undefined> {
  const args = [
    '--session',
    '--print-reply',
    `--reply-timeout=${timeoutMs}`,
    '--dest=org.freedesktop.secrets',
    '/org/freedesktop/secrets/aliases/default',
    'org.freedesktop.DBus.Properties.Get',
    'string:org.freedesktop.Secret.Collection',
    'string:Locked',
  ];
  return new Promise((resolve) => {
    execFile('dbus-send', args, { env, timeout: timeoutMs + 500 }, (error, stdout) => {
      if (error) return resolve(undefined);
      const m = /boolean (true|false)/.exec(stdout);
      resolve(m ? m[1] === 'true' : undefined);
    });
  });
}
