import { inspect } from 'node:util';

const values = new WeakMap<Secret, string>();

/**
 * A credential that cannot be printed or serialised by accident: `String()`, `JSON.stringify`,
 * `util.inspect` and template literals all give `[REDACTED]`. Call `reveal()` at the one place
 * that must put the value on the wire or into a process environment.
 */
export class Secret {
  constructor(value: string) {
    values.set(this, value);
  }
  reveal(): string {
    return values.get(this) ?? '';
  }
  get length(): number {
    return this.reveal().length;
  }
  equals(other: Secret | string): boolean {
    return this.reveal() === (typeof other === 'string' ? other : other.reveal());
  }
  toString(): string {
    return '[REDACTED]';
  }
  toJSON(): string {
    return '[REDACTED]';
  }
  [inspect.custom](): string {
    return 'Secret([REDACTED])';
  }
}

export function secret(value: string): Secret {
  return new Secret(value);
}
