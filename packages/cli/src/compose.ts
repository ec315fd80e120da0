// The composition root of the `ray-connect` command and agent: the one place that picks real implementations
// (secret store, logger, clock, browser, paths) and builds the facade. Commands get a CliContext.
import { spawn } from 'node:child_process';
import { unlink } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import {
  type Browser,
  chooseSecretStore,
  createRayConnect,
  defaultConfigDir,
  type Logger,
  MemorySecretStore,
  type RayConnect,
  RayConnectError,
  type SecretStore,
  systemClock,
  tildePath,
} from '@ray-connect/core';
import { AGENT_SECRET_ENV, PROTOCOL_VERSION, StorageWords } from '@ray-connect/shared';
import { agentClient } from './agent/agentClient.js';
import { type AgentRecord, findAgent } from './agent/discovery.js';
import type { ParsedArgs } from './args.js';
import { errorLine, noteLine, warningLine } from './output.js';

export const VERSION = '0.1.0';

export interface Io {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream;
  env: NodeJS.ProcessEnv;
}

export interface CliContext {
  api: RayConnect;
  args: ParsedArgs;
  io: Io;
  json: boolean;
  configDir: string;
  logger: Logger;
  /** Set when the commands go to the running agent of this user's Jupyter server (its sign-ins, its connections). */
  agent?: { pid: number; port: number };
  /** The command's own secret store is memory only (no keychain, no file opted in) and no agent serves it. */
  memoryOnly: boolean;
  /**
   * The OS keychain is locked (and no agent serves): the sign-ins may be in it, unreadable now. The read verbs say
   * "locked" (lockedKeychain()) instead of "signed out" / "nothing stored".
   */
  keychainLocked: boolean;
  /** Why a running agent was not used (another KUBECONFIG), said with the memory-only hints. */
  agentSkipped?: string;
  /** Where the opted-in file store would be, for hints. */
  fileStorePath: string;
  /** Writes a line to stdout. */
  out(text: string): void;
  /** Writes a line to stderr (progress, hints). */
  err(text: string): void;
  /** Writes `ray-connect: warning: <text>` to stderr. */
  warn(text: string): void;
  /** Writes `ray-connect: note: <text>` to stderr. */
  note(text: string): void;
}

/** Builds everything a command needs. The agent (serve) and one-shot commands share it. */
export async function compose(
  args: ParsedArgs,
  io: Io,
  holder: string = StorageWords.commandHolder,
): Promise<CliContext> {
  const env = io.env;
  const configDir = env.RAY_CONNECT_CONFIG_DIR || defaultConfigDir(env);
  const logger = stderrLogger(io.stderr, env);
  const fileStorePath = join(configDir, 'secrets.json');
  const store = await secretStore(env, configDir, holder, logger);
  const context = {
    args,
    io,
    json: args.flags.get('json') === true,
    configDir,
    logger,
    fileStorePath,
    out: (text: string) => void io.stdout.write(text.endsWith('\n') ? text : text + '\n'),
    err: (text: string) => void io.stderr.write(text.endsWith('\n') ? text : text + '\n'),
    warn: (text: string) => void io.stderr.write(warningLine(text) + '\n'),
    note: (text: string) => void io.stderr.write(noteLine(text) + '\n'),
  };
  // Without a keychain the command's own memory dies with it: use the agent of this user's Jupyter server
  // instead, so a terminal and the panel share one sign-in (RAY_CONNECT_AGENT=off: never; =on: always).
  const memoryFallback = store.info.kind === 'memory' && env.RAY_CONNECT_SECRET_STORE !== 'memory';
  const useAgent = env.RAY_CONNECT_AGENT ?? 'auto';
  let skipped: string | undefined;
  if (holder !== StorageWords.agentHolder && (useAgent === 'on' || (useAgent !== 'off' && memoryFallback))) {
    const found = await reachableAgent(configDir, logger);
    // Another KUBECONFIG than the agent's means other clusters: keep to the command's own view (auto only).
    const mismatch =
      found && useAgent !== 'on' && found.kubeconfig !== (env.KUBECONFIG ?? '')
        ? `the Ray Connect agent of your Jupyter server (pid ${found.pid}) was not used: it reads KUBECONFIG=${found.kubeconfig || '(unset)'}, this command KUBECONFIG=${env.KUBECONFIG || '(unset)'} (RAY_CONNECT_AGENT=on uses it anyway)`
        : undefined;
    const agent = mismatch ? undefined : found;
    skipped = mismatch;
    if (agent)
      return {
        ...context,
        api: agentClient(agent),
        agent: { pid: agent.pid, port: agent.port },
        memoryOnly: false,
        keychainLocked: false,
      };
    if (useAgent === 'on')
      throw new RayConnectError(
        'AGENT_UNAVAILABLE',
        `RAY_CONNECT_AGENT=on, but no Ray Connect agent of a Jupyter server of yours is running (none found in ${join(configDir, 'agents')})`,
        {
          fix: 'Open the Ray Connect panel in JupyterLab (it starts the agent), or unset RAY_CONNECT_AGENT.',
        },
      );
  }
  const api = createRayConnect({
    store,
    logger,
    clock: systemClock,
    browser: cliBrowser(env, logger),
    configDir,
    // The agent's secret stays out of what exec plugins and children could see.
    env: Object.fromEntries(Object.entries(env).filter(([k]) => k !== AGENT_SECRET_ENV)),
    homedir: env.HOME || homedir(),
    version: VERSION,
    ...(env.RAY_CONNECT_CA_FILE && { caFile: env.RAY_CONNECT_CA_FILE }),
    ...(env.RAY_CONNECT_INSECURE_SKIP_TLS_VERIFY === '1' && { insecureSkipTlsVerify: true }),
    oidc: {
      ...(env.RAY_CONNECT_OIDC_ISSUER && { issuer: env.RAY_CONNECT_OIDC_ISSUER }),
      ...(env.RAY_CONNECT_OIDC_CLIENT_ID && { clientId: env.RAY_CONNECT_OIDC_CLIENT_ID }),
      ...(env.RAY_CONNECT_OIDC_CA_FILE && { caFile: env.RAY_CONNECT_OIDC_CA_FILE }),
    },
  });
  return {
    ...context,
    api,
    memoryOnly: memoryFallback,
    keychainLocked: store.info.degradedCode === 'KEYCHAIN_LOCKED',
    ...(skipped && { agentSkipped: skipped }),
  };
}

/** The newest agent of this user that answers with its secret; files of agents that do not answer are removed. */
async function reachableAgent(configDir: string, logger: Logger): Promise<AgentRecord | undefined> {
  const record = await findAgent(configDir, PROTOCOL_VERSION, {
    warn: (m) => logger.warn(m),
    debug: (m) => logger.debug(m),
  });
  if (!record) return undefined;
  try {
    await agentClient(record).version();
    logger.debug('using the Ray Connect agent', { pid: record.pid, port: record.port });
    return record;
  } catch (e) {
    logger.debug('the agent in the discovery file does not answer; removing the file', {
      file: record.file,
      reason: e instanceof Error ? e.message : String(e),
    });
    await unlink(record.file).catch(() => undefined);
    return undefined;
  }
}

/**
 * OS keychain when it works; RAY_CONNECT_SECRET_STORE=file opts in to a 0600 file, =memory forces memory.
 * Loading the native keychain module may fail (the bundled CLI ships without it): that falls back to memory.
 */
async function secretStore(
  env: NodeJS.ProcessEnv,
  configDir: string,
  holder: string,
  logger: Logger,
): Promise<SecretStore> {
  const prefer = env.RAY_CONNECT_SECRET_STORE;
  try {
    return await chooseSecretStore({
      prefer: prefer === 'file' || prefer === 'memory' ? prefer : 'os-keychain',
      filePath: join(configDir, 'secrets.json'),
      holder,
      // "memory only" is said where it matters (login), not as a warning on every command.
      logger: { ...logger, warn: logger.debug, info: logger.debug },
    });
  } catch (e) {
    logger.debug('OS keychain unavailable', { reason: e instanceof Error ? e.message : String(e) });
    return new MemorySecretStore({
      label: StorageWords.memoryLabel(holder),
      degradedReason: StorageWords.memoryReason(
        'No OS keychain module in this installation.',
        holder,
        tildePath(join(configDir, 'secrets.json')),
      ),
    });
  }
}

/** Levelled logger on stderr: warnings and errors by default, everything with RAY_CONNECT_DEBUG=1. Never a token. */
function stderrLogger(stderr: NodeJS.WritableStream, env: NodeJS.ProcessEnv): Logger {
  const debug = env.RAY_CONNECT_DEBUG === '1';
  const order = ['trace', 'debug', 'info', 'warn', 'error'];
  const min = order.indexOf(debug ? 'debug' : (env.RAY_CONNECT_LOG_LEVEL ?? 'warn'));
  const line = (level: string) => (message: string, fields?: Record<string, unknown>) => {
    if (order.indexOf(level) < min) return;
    const extra = fields && Object.keys(fields).length ? ' ' + JSON.stringify(fields) : '';
    const text = `${message}${extra}`;
    stderr.write(
      (level === 'error'
        ? errorLine(text)
        : level === 'warn'
          ? warningLine(text)
          : `ray-connect: ${level}: ${text}`) + '\n',
    );
  };
  return {
    trace: line('trace'),
    debug: line('debug'),
    info: line('info'),
    warn: line('warn'),
    error: line('error'),
  };
}

/** Opens URLs with xdg-open / open / start, or not at all with RAY_CONNECT_BROWSER=none. The URL is always printed too. */
function cliBrowser(env: NodeJS.ProcessEnv, logger: Logger): Browser {
  return {
    async open(url: string): Promise<boolean> {
      const choice = env.RAY_CONNECT_BROWSER;
      if (choice === 'none') return false;
      const command =
        choice ||
        (process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open');
      return new Promise<boolean>((resolve) => {
        try {
          const child = spawn(command, [url], { stdio: 'ignore', detached: true });
          child.on('error', () => resolve(false));
          child.on('spawn', () => {
            child.unref();
            resolve(true);
          });
        } catch (e) {
          logger.debug('no browser', { reason: e instanceof Error ? e.message : String(e) });
          resolve(false);
        }
      });
    },
  };
}

/** What `whoami`, `clusters` and `logout` say with a locked keychain: the sign-in may be there, unreadable now. */
export function lockedKeychain(what: string): RayConnectError {
  return new RayConnectError(
    'KEYCHAIN_LOCKED',
    `The OS keychain is locked: ${what} cannot be read or removed while it is locked (this is not "signed out").`,
    {
      fix: 'Unlock your keyring (log in to the desktop, or open Passwords and Keys and unlock "Login"), then run the command again; or opt in to the file store with RAY_CONNECT_SECRET_STORE=file.',
    },
  );
}

/** With memory only and no agent: how long a sign-in lasts here and how to keep it. */
export function memoryOnlyHint(ctx: CliContext): string {
  return StorageWords.cliMemoryOnly(tildePath(ctx.fileStorePath), ctx.agentSkipped);
}
