import { describe, expect, it } from 'vitest';
import { EnvInjector, type EnvCollection } from './envInjector';

function collection(initial: Record<string, string> = {}) {
  const vars = new Map(Object.entries(initial));
  const c: EnvCollection & { vars: Map<string, string> } = {
    vars,
    persistent: true,
    description: undefined,
    replace: (k, v) => void vars.set(k, v),
    delete: (k) => void vars.delete(k),
    get: (k) => vars.get(k),
    clear: () => vars.clear(),
  };
  return c;
}

const ref = { clusterId: 'context:a', namespace: 'team-a', name: 'rc' };
const env = { RAY_AUTH_MODE: 'token', RAY_AUTH_TOKEN: 'tok1', RAY_ADDRESS: 'http://127.0.0.1:52813' };

describe('EnvInjector', () => {
  it('is never persistent, has a description, and starts clean', () => {
    const c = collection({ RAY_AUTH_TOKEN: 'left-over' });
    const inj = new EnvInjector(c, (r) => `Ray Connect: ${r.name}`);
    expect(c.persistent).toBe(false);
    expect(c.vars.size).toBe(0);
    inj.apply(ref, env, 1);
    expect(Object.fromEntries(c.vars)).toEqual(env);
    expect(c.description).toBe('Ray Connect: rc');
    expect(c.persistent).toBe(false);
  });
  it('clears only what it set', () => {
    const c = collection();
    const inj = new EnvInjector(c, () => 'd');
    c.vars.set('OTHER', 'x'); // not ours (would be another writer)
    inj.apply(ref, env, 1);
    expect(inj.clear(ref).sort()).toEqual(['RAY_ADDRESS', 'RAY_AUTH_MODE', 'RAY_AUTH_TOKEN']);
    expect(Object.fromEntries(c.vars)).toEqual({ OTHER: 'x' });
    expect(c.description).toBeUndefined();
    expect(inj.clear(ref)).toEqual([]);
  });
  it('switching Ray cluster removes names the new one does not use', () => {
    const c = collection();
    const inj = new EnvInjector(c, () => 'd');
    inj.apply(ref, env, 1);
    inj.apply({ ...ref, name: 'open' }, { RAY_AUTH_MODE: 'disabled', RAY_ADDRESS: 'http://127.0.0.1:1' }, 1);
    expect(Object.fromEntries(c.vars)).toEqual({
      RAY_AUTH_MODE: 'disabled',
      RAY_ADDRESS: 'http://127.0.0.1:1',
    });
    expect(inj.isInjected(ref)).toBe(false);
  });
  it('token rotation replaces values, only for a newer version', () => {
    const c = collection();
    const secrets: string[] = [];
    const inj = new EnvInjector(
      c,
      () => 'd',
      (v) => secrets.push(v),
    );
    inj.apply(ref, env, 1);
    inj.rotate(ref, { ...env, RAY_AUTH_TOKEN: 'tok2' }, 2);
    expect(c.vars.get('RAY_AUTH_TOKEN')).toBe('tok2');
    inj.rotate(ref, { ...env, RAY_AUTH_TOKEN: 'old' }, 1);
    expect(c.vars.get('RAY_AUTH_TOKEN')).toBe('tok2');
    expect(secrets).toEqual(['tok1', 'tok2']);
  });
  it('sign-out clears every Ray cluster of that cluster', () => {
    const c = collection();
    const inj = new EnvInjector(c, () => 'd');
    inj.apply(ref, env, 1);
    expect(inj.clearCluster('context:other')).toEqual([]);
    expect(inj.clearCluster('context:a').length).toBe(3);
    expect(c.vars.size).toBe(0);
  });
  it('keeps folders of a multi-root workspace apart', () => {
    const root = collection();
    const scoped = new Map<string, ReturnType<typeof collection>>();
    const withScopes = Object.assign(root, {
      getScoped: (scope: { workspaceFolder?: { uri: { toString(): string } } }) => {
        const key = scope.workspaceFolder!.uri.toString();
        if (!scoped.has(key)) scoped.set(key, collection());
        return scoped.get(key)!;
      },
    });
    const inj = new EnvInjector(withScopes as never, () => 'd');
    const folder = (name: string) =>
      ({ workspaceFolder: { uri: { toString: () => `file:///${name}` }, name, index: 0 } }) as never;
    inj.apply(ref, env, 1, folder('a'));
    inj.apply({ ...ref, name: 'other' }, { ...env, RAY_AUTH_TOKEN: 'tokB' }, 1, folder('b'));
    expect(root.vars.size).toBe(0);
    expect(scoped.get('file:///a')!.vars.get('RAY_AUTH_TOKEN')).toBe('tok1');
    expect(scoped.get('file:///b')!.vars.get('RAY_AUTH_TOKEN')).toBe('tokB');
    expect(scoped.get('file:///a')!.persistent).toBe(false);
    inj.clear(ref);
    expect(scoped.get('file:///a')!.vars.size).toBe(0);
    expect(scoped.get('file:///b')!.vars.size).toBe(3);
  });
});
