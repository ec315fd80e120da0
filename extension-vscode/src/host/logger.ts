import type { LogOutputChannel } from 'vscode';
import type { Logger } from '@ray-connect/core';
import type { Redactor } from './redact';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<LogLevel, number> = { trace: 0, debug: 1, info: 2, warn: 3, error: 4 };

type Channel = Pick<LogOutputChannel, 'trace' | 'debug' | 'info' | 'warn' | 'error'>;

function formatFields(fields: Record<string, unknown> | undefined): string {
  if (!fields || Object.keys(fields).length === 0) return '';
  try {
    return (
      ' ' +
      JSON.stringify(fields, (_k, v: unknown) =>
        v instanceof Error ? { name: v.name, message: v.message } : v,
      )
    );
  } catch {
    return ' [unserialisable fields]';
  }
}

/** The core's Logger on a LogOutputChannel. Every line goes through the redactor; `level` filters below it. */
export class ChannelLogger implements Logger {
  constructor(
    private readonly channel: Channel,
    private readonly redactor: Redactor,
    public level: LogLevel = 'info',
  ) {}

  private write(level: LogLevel, message: string, fields?: Record<string, unknown>): void {
    if (ORDER[level] < ORDER[this.level]) return;
    this.channel[level](this.redactor.redact(message + formatFields(fields)));
  }

  trace(message: string, fields?: Record<string, unknown>): void {
    this.write('trace', message, fields);
  }
  debug(message: string, fields?: Record<string, unknown>): void {
    this.write('debug', message, fields);
  }
  info(message: string, fields?: Record<string, unknown>): void {
    this.write('info', message, fields);
  }
  warn(message: string, fields?: Record<string, unknown>): void {
    this.write('warn', message, fields);
  }
  error(message: string, fields?: Record<string, unknown>): void {
    this.write('error', message, fields);
  }
}
