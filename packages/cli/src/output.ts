import { type CaTarget, caFix, CLI_CA_SETTINGS, type ErrorInfo } from '@ray-connect/shared';
import { isRayConnectError } from '@ray-connect/core';
import { UsageError } from './args.js';
import { EXIT, exitCodeFor } from './exitCodes.js';

/** The one style of every message the CLI writes to stderr: `ray-connect: error: <what> — <fix>`. */
export function errorLine(what: string, fix?: string): string {
  const fixPart = fix ? ` — ${oneLine(fix)}` : '';
  return `ray-connect: error: ${oneLine(what)}${fixPart}`;
}

/** `ray-connect: warning: <what>`. */
export function warningLine(what: string): string {
  return `ray-connect: warning: ${oneLine(what)}`;
}

/** `ray-connect: note: <what>`: information that is neither an error nor a warning (where a sign-in is kept). */
export function noteLine(what: string): string {
  return `ray-connect: note: ${oneLine(what)}`;
}

/** The line of an error from the core or the agent, with the fix in the CLI's words (its options, its env). */
export function errorInfoLine(info: ErrorInfo, prefix = ''): string {
  return errorLine(`${prefix}${info.message}`, cliFix(info));
}

/**
 * The fix in the CLI's own words, built from the code and details: the core names no host's setting.
 * TLS: RAY_CONNECT_CA_FILE / RAY_CONNECT_OIDC_CA_FILE; a taken port: the --dashboard-port / --client-port option.
 */
export function cliFix(info: ErrorInfo): string | undefined {
  const details = info.details ?? {};
  if (info.code === 'TLS_UNTRUSTED' && typeof details.caFor === 'string') {
    const issuer = typeof details.issuer === 'string' ? details.issuer : undefined;
    return caFix(details.caFor as CaTarget, CLI_CA_SETTINGS, issuer);
  }
  if (info.code === 'PORT_IN_USE' && details.port !== undefined) {
    const option = details.label === 'client' ? '--client-port' : '--dashboard-port';
    return `Pick another port with ${option} <port>, or leave ${option} out to get a free one (port ${details.port} is taken)`;
  }
  return info.fix;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** One line `ray-connect: error: <what> — <fix>`; a stack only with RAY_CONNECT_DEBUG=1. Returns the exit code. */
export function reportError(
  e: unknown,
  stderr: NodeJS.WritableStream,
  env: NodeJS.ProcessEnv,
  json: boolean,
): number {
  let info: ErrorInfo;
  let code: number;
  if (e instanceof UsageError) {
    info = { code: 'BAD_REQUEST', message: e.message, fix: 'See `ray-connect --help`' };
    code = EXIT.usage;
  } else if (isRayConnectError(e)) {
    info = e.toInfo();
    code = exitCodeFor(e.code);
  } else {
    info = {
      code: 'INTERNAL',
      message: e instanceof Error ? e.message : String(e),
      fix: 'Run again with RAY_CONNECT_DEBUG=1 and report the output',
    };
    code = EXIT.error;
  }
  if (json) stderr.write(JSON.stringify({ error: info }) + '\n');
  else stderr.write(errorInfoLine(info) + '\n');
  if (env.RAY_CONNECT_DEBUG === '1' && e instanceof Error && e.stack) stderr.write(e.stack + '\n');
  return code;
}

/** A plain-text table with padded columns. */
export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return (
    rows
      .map((row) =>
        row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  '),
      )
      .join('\n') + '\n'
  );
}
