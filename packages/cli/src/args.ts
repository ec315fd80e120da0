/** A small argv parser: `command [positionals] [--flag] [--opt value | --opt=value] [-n value]`. No dependencies. */
export interface ParsedArgs {
  command: string | undefined;
  positionals: string[];
  flags: Map<string, string | true>;
}

/** Options that take a value (everything else is a boolean flag). */
const WITH_VALUE = new Set([
  'context',
  'namespace',
  'format',
  'issuer',
  'client-id',
  'port',
  'dashboard-port',
  'client-port',
  'scope',
]);
const SHORT: Record<string, string> = { n: 'namespace', h: 'help', o: 'format', A: 'all-namespaces' };

export class UsageError extends Error {}

export function parseArgs(argv: string[]): ParsedArgs {
  const flags = new Map<string, string | true>();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    let name: string | undefined;
    let value: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
      if (eq !== -1) value = arg.slice(eq + 1);
    } else if (/^-[a-zA-Z]$/.test(arg)) {
      name = SHORT[arg.slice(1)];
      if (name === undefined) throw new UsageError(`unknown option ${arg}`);
    } else {
      positionals.push(arg);
      continue;
    }
    if (name === 'token' || name.startsWith('token='))
      throw new UsageError('a token is never passed in argv; use --token-stdin and pipe it in');
    if (WITH_VALUE.has(name)) {
      if (value === undefined) {
        value = argv[++i];
        if (value === undefined || value.startsWith('--')) throw new UsageError(`--${name} needs a value`);
      }
      flags.set(name, value);
    } else {
      if (value !== undefined) throw new UsageError(`--${name} takes no value`);
      flags.set(name, true);
    }
  }
  const [command, ...rest] = positionals;
  return { command, positionals: rest, flags };
}

export function stringFlag(args: ParsedArgs, name: string): string | undefined {
  const v = args.flags.get(name);
  return typeof v === 'string' ? v : undefined;
}

export function boolFlag(args: ParsedArgs, name: string): boolean {
  return args.flags.get(name) === true;
}

export function portFlag(args: ParsedArgs, name: string): number | undefined {
  const v = stringFlag(args, name);
  if (v === undefined) return undefined;
  const n = /^\d{1,5}$/.test(v) ? Number(v) : NaN; // decimal digits only: Number() also takes '0x50', '1e3', ' 80 '
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new UsageError(`--${name} must be a port number (0-65535)`);
  return n;
}

/** Rejects options a command does not know (global ones are always allowed). */
export function allowOnly(args: ParsedArgs, allowed: string[]): void {
  const globals = ['context', 'namespace', 'json', 'help'];
  for (const name of args.flags.keys()) {
    if (!globals.includes(name) && !allowed.includes(name))
      throw new UsageError(`unknown option --${name} for ${args.command}`);
  }
}
