// Malformed and hostile kubeconfigs: every one is KUBECONFIG_INVALID naming the file (and field when there is
// one), never a crash; through the CLI: one line + fix, exit code non-zero, no stack trace.
/* eslint-disable @typescript-eslint/no-explicit-any -- hostile input of any shape, untyped JSON answers */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  credentialSourceForUser,
  isRayConnectError,
  loadKubeconfig,
  nodeReadTextFile,
  resolveContext,
} from '../../../packages/core/src/index.js';
import { cli, cliEnv, hasStackTrace, kubeconfigFor, tempDir } from '../helpers.js';

async function load(files: string[]) {
  return loadKubeconfig({
    env: { KUBECONFIG: files.join(':') },
    homedir: tempDir(),
    readFile: nodeReadTextFile,
  });
}

/** Loads, resolves the current context and builds its credential source: the whole path a host takes. */
async function resolveAll(files: string[]) {
  const view = await load(files);
  const ctx = resolveContext(view);
  credentialSourceForUser(ctx.user, { readFile: nodeReadTextFile });
  return ctx;
}

async function expectInvalid(files: string[], field?: RegExp) {
  let err: unknown;
  try {
    await resolveAll(files);
  } catch (e) {
    err = e;
  }
  expect(
    isRayConnectError(err, 'KUBECONFIG_INVALID'),
    `expected KUBECONFIG_INVALID, got ${String(err)}`,
  ).toBe(true);
  const e = err as { message: string; details?: Record<string, unknown>; fix?: string };
  expect(e.details?.file).toBe(resolve(files[0]!));
  expect(e.message).toContain(resolve(files[0]!));
  if (field) expect(String(e.details?.field)).toMatch(field);
  expect(e.fix).toBeTruthy();
  return e;
}

const base = () => kubeconfigFor({ token: 'placeholder-not-a-secret' });
type Mutate = (c: Record<string, any>) => void;
// [label, mutation, expected field]
const wrongTypes: [string, Mutate, RegExp][] = [
  ['clusters is a string', (c) => (c.clusters = 'nope'), /^clusters$/],
  ['clusters[0] is a number', (c) => (c.clusters = [42]), /clusters/],
  ['cluster.server is a number', (c) => (c.clusters[0].cluster.server = 6443), /server/],
  ['cluster.server missing', (c) => delete c.clusters[0].cluster.server, /server/],
  [
    'insecure-skip-tls-verify is a string',
    (c) => (c.clusters[0].cluster['insecure-skip-tls-verify'] = 'yes'),
    /insecure-skip-tls-verify/,
  ],
  ['users is a mapping', (c) => (c.users = { u: {} }), /^users$/],
  ['user.token is a list', (c) => (c.users[0].user.token = ['a']), /token/],
  ['user entry without name', (c) => delete c.users[0].name, /users/],
  ['contexts[0].context is null-ish string', (c) => (c.contexts[0].context = 'x'), /context/],
  ['context.cluster is a number', (c) => (c.contexts[0].context.cluster = 1), /cluster/],
  [
    'exec without command',
    (c) => (c.users[0].user = { exec: { apiVersion: 'client.authentication.k8s.io/v1' } }),
    /exec/,
  ],
  [
    'exec with unknown apiVersion',
    (c) => (c.users[0].user = { exec: { apiVersion: 'client.authentication.k8s.io/v9', command: 'x' } }),
    /apiVersion/,
  ],
  [
    'exec.args is a string',
    (c) =>
      (c.users[0].user = {
        exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'x', args: '--a' },
      }),
    /args/,
  ],
  [
    'exec.env entry is a string',
    (c) =>
      (c.users[0].user = {
        exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'x', env: ['A=1'] },
      }),
    /env/,
  ],
  [
    'exec interactiveMode unknown',
    (c) =>
      (c.users[0].user = {
        exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'x', interactiveMode: 'Sometimes' },
      }),
    /interactiveMode/,
  ],
  ['auth-provider is a string', (c) => (c.users[0].user = { 'auth-provider': 'oidc' }), /auth-provider/],
  [
    'unknown auth-provider kind',
    (c) => (c.users[0].user = { 'auth-provider': { name: 'azure', config: {} } }),
    /auth-provider/,
  ],
  [
    'auth-provider.config is a list',
    (c) => (c.users[0].user = { 'auth-provider': { name: 'oidc', config: [] } }),
    /config/,
  ],
];

describe('hostile kubeconfigs -> KUBECONFIG_INVALID naming file and field', () => {
  it.each(wrongTypes)('%s', async (_label, mutate, field) => {
    const c = base();
    mutate(c);
    const file = join(tempDir(), 'config');
    writeFileSync(file, JSON.stringify(c));
    await expectInvalid([file], field);
  });

  it.each([
    ['not YAML at all', '{{{: ]]\n\t- :'],
    ['a YAML list', '- a\n- b\n'],
    ['a scalar', '42\n'],
    ['binary bytes', Buffer.from([0, 1, 2, 255, 254, 0x1b, 0x5b]).toString('latin1')],
    ['YAML alias bomb (billion laughs)', billionLaughs()],
  ])('%s', async (_label, text) => {
    const file = join(tempDir(), 'config');
    writeFileSync(file, text);
    await expectInvalid([file]);
  });

  it('a huge file (32 MiB of padding) is read without crashing: valid -> loads, invalid -> KUBECONFIG_INVALID', async () => {
    const dir = tempDir();
    const pad = `# ${'x'.repeat(1024)}\n`.repeat(32 * 1024);
    const good = join(dir, 'good');
    writeFileSync(good, `${pad}${JSON.stringify(base())}\n`);
    const ctx = await resolveAll([good]);
    expect(ctx.context.name).toBe('f');
    const bad = join(dir, 'bad');
    const c = base();
    (c.clusters as any[])[0].cluster.server = 1;
    writeFileSync(bad, `${pad}${JSON.stringify(c)}\n`);
    await expectInvalid([bad], /server/);
  });

  it('KUBECONFIG with repeats and a "cycle" (a, b, a, ./a, b) loads each file once, first wins', async () => {
    const dir = tempDir();
    const a = join(dir, 'a');
    const b = join(dir, 'b');
    writeFileSync(a, JSON.stringify(base()));
    const other = base();
    other['current-context'] = 'other';
    (other.contexts as any[])[0].name = 'other';
    writeFileSync(b, JSON.stringify(other));
    const view = await loadKubeconfig({
      env: { KUBECONFIG: [a, b, a, `${dir}/./a`, b, '', a].join(':') },
      homedir: dir,
      readFile: nodeReadTextFile,
    });
    expect(view.files).toEqual([a, b]);
    expect(view.currentContext).toBe('f');
    expect(view.contexts.map((c) => c.name).sort()).toEqual(['f', 'other']);
  });

  it('KUBECONFIG naming a directory -> KUBECONFIG_INVALID naming it', async () => {
    const dir = tempDir();
    await expect(load([dir])).rejects.toMatchObject({ code: 'KUBECONFIG_INVALID', details: { file: dir } });
  });

  it('the first invalid file in a KUBECONFIG list is named, not the valid one', async () => {
    const dir = tempDir();
    const good = join(dir, 'good');
    const bad = join(dir, 'bad');
    writeFileSync(good, JSON.stringify(base()));
    writeFileSync(bad, 'users: 7\n');
    await expect(load([good, bad])).rejects.toMatchObject({
      code: 'KUBECONFIG_INVALID',
      details: { file: bad, field: 'users' },
    });
  });

  it('a token in an invalid file never appears in the error', async () => {
    const c = base();
    (c.users as any[])[0].user.token = 'sekrit-token-in-kubeconfig-123';
    (c.users as any[])[0].user['client-key-data'] = 7;
    const file = join(tempDir(), 'config');
    writeFileSync(file, JSON.stringify(c));
    const e = await expectInvalid([file]);
    expect(JSON.stringify({ m: e.message, f: e.fix, d: e.details })).not.toContain(
      'sekrit-token-in-kubeconfig-123',
    );
  });
});

describe('CLI on hostile kubeconfigs: one line + fix, non-zero exit, no stack trace', () => {
  const cases: [string, string][] = [
    ['wrong type', JSON.stringify({ ...base(), clusters: 'nope' })],
    ['not YAML', '{{{: ]]\n'],
    ['alias bomb', billionLaughs()],
    [
      'unknown auth provider',
      JSON.stringify(kubeconfigFor({ 'auth-provider': { name: 'azure', config: {} } })),
    ],
  ];
  it.each(cases)('%s', async (_label, text) => {
    const file = join(tempDir(), 'config');
    writeFileSync(file, text);
    for (const args of [['whoami'], ['clusters']]) {
      const r = await cli(args, cliEnv(file));
      expect(r.code, `${args[0]}: ${r.stderr}`).not.toBe(0);
      expect(hasStackTrace(r.stderr + r.stdout), r.stderr).toBe(false);
      expect(r.stderr).toContain(file);
      expect(r.stderr).toMatch(/^ray-connect: error: .+ — \S/m); // <what> — <fix>
      const lines = r.stderr
        .trim()
        .split('\n')
        .filter((l) => l.trim() !== '');
      expect(lines.length, r.stderr).toBeLessThanOrEqual(3);
    }
  });
});

function billionLaughs(): string {
  const lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  const names = 'bcdefghij'.split('');
  let prev = 'a';
  for (const n of names) {
    lines.push(
      `${n}: &${n} [*${prev},*${prev},*${prev},*${prev},*${prev},*${prev},*${prev},*${prev},*${prev}]`,
    );
    prev = n;
  }
  lines.push(`clusters: *${prev}`);
  return `${lines.join('\n')}\n`;
}
