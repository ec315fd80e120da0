import type { ErrorInfo } from '@ray-connect/shared';
import { isRayConnectError } from '@ray-connect/core';
import { UsageError } from './args.js';
import { EXIT, exitCodeFor } from './exitCodes.js';

/** One line + the fix; a stack only with RAY_CONNECT_DEBUG=1. Returns the exit code. */
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
  else {
    stderr.write(`ray-connect: ${info.message.replace(/\s+/g, ' ').trim()}\n`);
    if (info.fix) stderr.write(`  fix: ${info.fix}\n`);
  }
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
