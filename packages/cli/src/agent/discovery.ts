// How `ray-connect` in a terminal finds the agent (`ray-connect serve`) of its user's Jupyter server: the agent
// writes `<configDir>/agents/<pid>.json` (0600 in a 0700 dir) with its port, pid, version, protocol and per-start
// secret, and removes it when it stops. One file per agent, so several Jupyter servers of one user never overwrite
// each other's file; the newest live one wins. A file is trusted only when it is a regular file of this user with
// mode 0600 (checked on the opened descriptor, not followed through a symlink): another local user could
// otherwise point the CLI at a server of their own and receive the tokens it sends.
import { randomBytes } from 'node:crypto';
import { constants, statSync, unlinkSync } from 'node:fs';
import { chmod, mkdir, open, readdir, readFile, readlink, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Secret } from '@ray-connect/core';

export interface AgentRecord {
  pid: number;
  port: number;
  version: string;
  protocol: number;
  /** Epoch ms when the agent started: the newest live agent wins. */
  startedAt: number;
  /** The agent's KUBECONFIG ('' when unset): a command with another one would see other clusters. Not a secret. */
  kubeconfig: string;
  secret: Secret;
  /** The discovery file it came from. */
  file: string;
}

export interface PublishedAgent {
  readonly file: string;
  /** Removes the file (at exit). Never throws. */
  remove(): Promise<void>;
  /** The same, synchronously: for process 'exit', where nothing async runs. */
  removeSync(): void;
}

export interface FindAgentOptions {
  /** Said once per ignored file: wrong owner or mode, unreadable, another protocol. */
  warn(message: string): void;
  debug?(message: string): void;
  /** The uid a trusted file must belong to. Default: this process's uid (no check where there is none). */
  uid?: number;
  /** Whether a pid is a live process of this user. Default: `process.kill(pid, 0)` and, on Linux, its /proc owner. */
  isAlive?(pid: number): boolean;
  /**
   * Whether `pid` is the process listening on 127.0.0.1:`port` (undefined: cannot tell on this system). Default:
   * /proc/net/tcp and /proc/<pid>/fd on Linux. A port held by someone else (the agent died, its port was taken)
   * must never receive the secret or a token.
   */
  holdsPort?(pid: number, port: number): Promise<boolean | undefined>;
}

export const agentsDir = (configDir: string) => join(configDir, 'agents');

/** Writes this agent's discovery file and cleans up files of agents that died without removing theirs. */
export async function publishAgent(
  configDir: string,
  agent: Omit<AgentRecord, 'file' | 'secret'> & { secret: string },
): Promise<PublishedAgent> {
  const dir = agentsDir(configDir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  await removeStale(dir, isAliveDefault);
  const file = join(dir, `${agent.pid}.json`);
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  const body = {
    pid: agent.pid,
    port: agent.port,
    version: agent.version,
    protocol: agent.protocol,
    startedAt: agent.startedAt,
    kubeconfig: agent.kubeconfig,
    secret: agent.secret,
  };
  try {
    await writeFile(tmp, JSON.stringify(body) + '\n', { mode: 0o600, flag: 'wx' });
    await rename(tmp, file);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  return {
    file,
    remove: () => unlink(file).catch(() => undefined),
    removeSync: () => {
      try {
        unlinkSync(file);
      } catch {
        // already gone
      }
    },
  };
}

/**
 * The newest live agent of this user that speaks `protocol`, or undefined. Files of dead agents are removed;
 * files that fail the owner/mode check are left alone and reported through `warn`.
 */
export async function findAgent(
  configDir: string,
  protocol: number,
  options: FindAgentOptions,
): Promise<AgentRecord | undefined> {
  const dir = agentsDir(configDir);
  const uid = options.uid ?? process.getuid?.();
  const isAlive = options.isAlive ?? ((pid: number) => isAliveDefault(pid) && procOwner(pid, uid));
  const holdsPort = options.holdsPort ?? holdsPortDefault;
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return undefined;
  }
  const found: AgentRecord[] = [];
  for (const name of names.filter((n) => /^\d+\.json$/.test(n))) {
    const file = join(dir, name);
    const record = await readRecord(file, uid, options.warn);
    if (!record) continue;
    if (!isAlive(record.pid)) {
      options.debug?.(`removing the discovery file of a stopped agent: ${file}`);
      await unlink(file).catch(() => undefined);
      continue;
    }
    if ((await holdsPort(record.pid, record.port)) === false) {
      options.debug?.(`removing a discovery file whose port is not held by its agent: ${file}`);
      await unlink(file).catch(() => undefined);
      continue;
    }
    if (record.protocol !== protocol) {
      options.warn(
        `ignoring the Ray Connect agent (pid ${record.pid}, version ${record.version}): it speaks protocol ${record.protocol}, this ray-connect speaks ${protocol}. Use the ray-connect of the same installation as the Jupyter extension.`,
      );
      continue;
    }
    found.push(record);
  }
  return found.sort((a, b) => b.startedAt - a.startedAt)[0];
}

/** Reads one discovery file if it can be trusted: a regular file (no symlink), owned by `uid`, mode 0600. */
async function readRecord(
  file: string,
  uid: number | undefined,
  warn: (message: string) => void,
): Promise<AgentRecord | undefined> {
  let text: string;
  try {
    const handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    try {
      const st = await handle.stat();
      const mode = st.mode & 0o777;
      if (!st.isFile() || (uid !== undefined && st.uid !== uid) || mode !== 0o600) {
        warn(
          `ignoring the agent discovery file ${file}: ${!st.isFile() ? 'not a regular file' : uid !== undefined && st.uid !== uid ? `owned by uid ${st.uid}, not by you (uid ${uid})` : `mode ${mode.toString(8).padStart(4, '0')}, not 0600`}. Remove it (rm ${file}); the agent writes a new one when it starts.`,
        );
        return undefined;
      }
      text = await handle.readFile('utf8');
    } finally {
      await handle.close();
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined; // removed meanwhile (the agent stopped)
    warn(
      `ignoring the agent discovery file ${file}: ${code === 'ELOOP' ? 'it is a symbolic link' : (e as Error).message}`,
    );
    return undefined;
  }
  try {
    const v = JSON.parse(text) as Record<string, unknown>;
    const { pid, port, version, protocol, startedAt, secret } = v;
    const kubeconfig = typeof v.kubeconfig === 'string' ? v.kubeconfig : '';
    if (
      !isInt(pid) ||
      !isInt(port) ||
      port < 1 ||
      port > 65535 ||
      !isInt(protocol) ||
      typeof version !== 'string' ||
      typeof startedAt !== 'number' ||
      typeof secret !== 'string' ||
      secret.length < 16
    )
      throw new Error('missing or malformed fields');
    return { pid, port, version, protocol, startedAt, kubeconfig, secret: new Secret(secret), file };
  } catch (e) {
    warn(`ignoring the agent discovery file ${file}: not valid (${(e as Error).message}). Remove it.`);
    return undefined;
  }
}

async function removeStale(dir: string, isAlive: (pid: number) => boolean): Promise<void> {
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const m = /^(\d+)\.json$/.exec(name);
    if (m && !isAlive(Number(m[1]))) await unlink(join(dir, name)).catch(() => undefined);
  }
}

function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v > 0;
}

/** A live process we may signal: ours. EPERM (another user's process, a reused pid) counts as not ours. */
function isAliveDefault(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** On Linux, whether the process belongs to `uid` (root can signal anyone's: kill(pid, 0) alone does not say). */
function procOwner(pid: number, uid: number | undefined): boolean {
  if (uid === undefined || process.platform !== 'linux') return true;
  try {
    return statSync(`/proc/${pid}`).uid === uid;
  } catch {
    return false;
  }
}

/** Linux: the LISTEN socket on 127.0.0.1:port (from /proc/net/tcp) is one of the pid's file descriptors. */
async function holdsPortDefault(pid: number, port: number): Promise<boolean | undefined> {
  if (process.platform !== 'linux') return undefined;
  let table: string;
  try {
    table = await readFile('/proc/net/tcp', 'utf8');
  } catch {
    return undefined;
  }
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const inodes = new Set<string>();
  for (const line of table.split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols[1] === local && cols[3] === '0A' && cols[9]) inodes.add(`socket:[${cols[9]}]`);
  }
  if (inodes.size === 0) return false;
  let fds: string[];
  try {
    fds = await readdir(`/proc/${pid}/fd`);
  } catch {
    return false;
  }
  for (const fd of fds) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
    if (inodes.has(target)) return true;
  }
  return false;
}
