import { basename } from 'node:path';
import { RayConnectError } from '../errors.js';
import type { Clock } from '../ports/Clock.js';
import { systemClock } from '../ports/Clock.js';
import type { Logger } from '../ports/Logger.js';
import { silentLogger } from '../ports/Logger.js';
import type { Credential, CredentialSource } from './credential.js';
import type { KubeExecConfig } from './kubeconfigTypes.js';
import { parseExecCredential } from './parseExecCredential.js';
import { runExecPlugin, type Spawn } from './runExecPlugin.js';

/** The cluster as an exec plugin sees it in KUBERNETES_EXEC_INFO (`spec.cluster`) when provideClusterInfo is set. */
export interface ExecClusterInfo {
  server: string;
  certificateAuthorityData?: string;
  insecureSkipTlsVerify?: boolean;
  tlsServerName?: string;
  proxyUrl?: string;
  config?: unknown;
}

export interface ExecCredentialSourceOptions {
  exec: KubeExecConfig;
  cluster?: ExecClusterInfo;
  /** The environment the plugin inherits (kubeconfig `env` entries are added on top). Default: process.env. */
  env?: Record<string, string | undefined>;
  clock?: Clock;
  logger?: Logger;
  /** Default 60 s. */
  timeoutMs?: number;
  /** A credential this close to expirationTimestamp is replaced (at most a quarter of its lifetime). Default 5 s. */
  renewBeforeMs?: number;
  spawn?: Spawn;
}

/**
 * kubectl's exec credential plugin: runs the command, honours expirationTimestamp, one run for any number of
 * concurrent callers, KUBERNETES_EXEC_INFO, a timeout, and `interactiveMode: Always` refused (we have no terminal).
 */
export function execCredentialSource(options: ExecCredentialSourceOptions): CredentialSource {
  const { exec } = options;
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const renewBeforeMs = options.renewBeforeMs ?? 5_000;
  const name = basename(exec.command);
  let cached: { credential: Credential; obtainedAt: number } | undefined;
  let running: Promise<Credential> | undefined;

  const fresh = (): Credential | undefined => {
    if (!cached) return undefined;
    const { credential, obtainedAt } = cached;
    if (credential.expiresAt === undefined) return credential;
    const margin = Math.min(renewBeforeMs, Math.max(0, (credential.expiresAt - obtainedAt) / 4));
    return clock.now() < credential.expiresAt - margin ? credential : undefined;
  };

  const run = async (): Promise<Credential> => {
    if (exec.interactiveMode === 'Always') {
      throw new RayConnectError(
        'EXEC_PLUGIN_INTERACTIVE',
        `The credential plugin ${name} needs a terminal to sign in (interactiveMode: Always).`,
        {
          fix: `Run a kubectl command for this context in a terminal (for example \`kubectl get namespaces\`) so ${name} can sign you in, then retry here.`,
          details: { command: name },
        },
      );
    }
    const env: Record<string, string | undefined> = { ...(options.env ?? process.env) };
    for (const e of exec.env) env[e.name] = e.value;
    env.KUBERNETES_EXEC_INFO = JSON.stringify(execInfo(exec, options.cluster));
    logger.debug('running exec credential plugin', { command: name });
    const stdout = await runExecPlugin({
      command: exec.command,
      args: exec.args,
      env,
      timeoutMs: options.timeoutMs ?? 60_000,
      ...(exec.installHint !== undefined ? { installHint: exec.installHint } : {}),
      ...(options.spawn ? { spawn: options.spawn } : {}),
    });
    const credential = parseExecCredential(stdout, exec.command, exec.apiVersion);
    logger.debug('exec credential plugin returned a credential', {
      command: name,
      expiresAt:
        credential.expiresAt === undefined ? undefined : new Date(credential.expiresAt).toISOString(),
    });
    return credential;
  };

  return {
    description: `exec: ${name}`,
    get(signal) {
      const current = fresh();
      if (current) return Promise.resolve(current);
      if (!running) {
        const startedAt = clock.now();
        running = run().then(
          (c) => {
            cached = { credential: c, obtainedAt: startedAt };
            running = undefined;
            return c;
          },
          (e: unknown) => {
            running = undefined;
            throw e;
          },
        );
      }
      return signal ? abortable(running, signal) : running;
    },
    invalidate() {
      cached = undefined;
    },
  };
}

function execInfo(exec: KubeExecConfig, cluster: ExecClusterInfo | undefined): unknown {
  const spec: Record<string, unknown> = { interactive: false };
  if (exec.provideClusterInfo && cluster) {
    const c: Record<string, unknown> = { server: cluster.server };
    if (cluster.tlsServerName) c['tls-server-name'] = cluster.tlsServerName;
    if (cluster.insecureSkipTlsVerify) c['insecure-skip-tls-verify'] = true;
    if (cluster.certificateAuthorityData) c['certificate-authority-data'] = cluster.certificateAuthorityData;
    if (cluster.proxyUrl) c['proxy-url'] = cluster.proxyUrl;
    if (cluster.config !== undefined) c.config = cluster.config;
    spec.cluster = c;
  }
  return { apiVersion: exec.apiVersion, kind: 'ExecCredential', spec };
}

/** Lets one caller stop waiting without cancelling the run the others share. */
function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
