import { spawn as nodeSpawn } from 'node:child_process';
import { basename } from 'node:path';
import { RayConnectError } from '../errors.js';

export type Spawn = typeof nodeSpawn;

export interface ExecPluginRun {
  command: string;
  args: readonly string[];
  env: Record<string, string | undefined>;
  timeoutMs: number;
  installHint?: string;
  spawn?: Spawn;
}

const MAX_OUTPUT = 1024 * 1024;

/**
 * Runs an exec credential plugin with stdin closed (not a TTY), a timeout and bounded output.
 * Resolves with stdout on exit 0; otherwise EXEC_PLUGIN_FAILED naming the command and stderr's first line.
 */
export function runExecPlugin(run: ExecPluginRun): Promise<string> {
  const name = basename(run.command);
  return new Promise((resolve, reject) => {
    const child = (run.spawn ?? nodeSpawn)(run.command, [...run.args], {
      env: run.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      shell: false,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outSize = 0;
    let errSize = 0;
    let settled = false;
    const finish = (e: RayConnectError | undefined, stdout?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (e) reject(e);
      else resolve(stdout ?? '');
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish(
        new RayConnectError(
          'EXEC_PLUGIN_FAILED',
          `The credential plugin ${name} did not finish within ${Math.round(run.timeoutMs / 1000)} s.`,
          {
            fix: `Run ${name} in a terminal to see whether it waits for input (a sign-in prompt), then retry.`,
            details: { command: name, timeoutMs: run.timeoutMs },
          },
        ),
      );
    }, run.timeoutMs);
    child.stdout?.on('data', (b: Buffer) => {
      outSize += b.length;
      if (outSize <= MAX_OUTPUT) out.push(b);
    });
    child.stderr?.on('data', (b: Buffer) => {
      errSize += b.length;
      if (errSize <= 64 * 1024) err.push(b);
    });
    child.on('error', (e: NodeJS.ErrnoException) => {
      const missing = e.code === 'ENOENT';
      finish(
        new RayConnectError(
          'EXEC_PLUGIN_FAILED',
          missing
            ? `The credential plugin ${name} was not found.`
            : `The credential plugin ${name} could not be started (${e.code ?? 'error'}).`,
          {
            fix:
              run.installHint?.trim() ||
              (missing ? `Install ${name} or put it on PATH.` : `Check that ${run.command} is executable.`),
            details: { command: name, errno: e.code },
            cause: e,
          },
        ),
      );
    });
    child.on('close', (code, signal) => {
      if (outSize > MAX_OUTPUT) {
        return finish(
          new RayConnectError(
            'EXEC_PLUGIN_FAILED',
            `The credential plugin ${name} wrote more than 1 MiB to stdout.`,
            { details: { command: name } },
          ),
        );
      }
      if (code === 0) return finish(undefined, Buffer.concat(out).toString('utf8'));
      const line = firstLine(Buffer.concat(err).toString('utf8'));
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      finish(
        new RayConnectError(
          'EXEC_PLUGIN_FAILED',
          `The credential plugin ${name} ${how}${line ? `: ${line}` : ''}.`,
          {
            fix: `Run ${name} in a terminal to see the full error.`,
            details: { command: name, exitCode: code ?? undefined, stderr: line },
          },
        ),
      );
    });
  });
}

/** The first non-empty line, trimmed and bounded. */
export function firstLine(text: string): string {
  const line = text.split(/\r?\n/).find((l) => l.trim() !== '') ?? '';
  const t = line.trim();
  return t.length > 300 ? `${t.slice(0, 300)}...` : t;
}
