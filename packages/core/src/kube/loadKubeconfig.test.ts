import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isRayConnectError } from '../errors.js';
import { MemoryLogger } from '../ports/Logger.js';
import { loadKubeconfig } from './loadKubeconfig.js';
import { parseKubeconfigFile } from './parseKubeconfigFile.js';
import { resolveContext } from './resolveContext.js';

const testdata = join(import.meta.dirname, '../../testdata/kubeconfig');

function fakeFs(files: Record<string, string>) {
  return async (path: string) => {
    const text = files[path];
    if (text === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
    return text;
  };
}

const fileA = `
apiVersion: v1
kind: Config
current-context: a
clusters:
- name: shared
  cluster:
    server: https://a.example:6443
    certificate-authority: certs/ca.crt
- name: only-a
  cluster: {server: "https://only-a.example"}
users:
- name: shared
  user:
    tokenFile: ../tokens/a
- name: exec-user
  user:
    exec:
      command: ./bin/plugin
      apiVersion: client.authentication.k8s.io/v1beta1
      args: [get-token]
      env: [{name: FOO, value: bar}]
contexts:
- name: a
  context: {cluster: shared, user: shared, namespace: team-a}
`;

const fileB = `
current-context: b
clusters:
- name: shared
  cluster: {server: "https://b.example:6443"}
- name: only-b
  cluster: {server: "https://only-b.example"}
users:
- name: shared
  user: {token: from-b}
- name: dash
  user:
    token-file: /abs/token
contexts:
- name: a
  context: {cluster: only-b, user: shared}
- name: b
  context: {cluster: only-b, user: dash}
`;

describe('loadKubeconfig', () => {
  it('merges the KUBECONFIG list like kubectl: first file wins per name, current-context from the first that sets it', async () => {
    const view = await loadKubeconfig({
      env: { KUBECONFIG: '/home/u/a/config::/home/u/b/config:/home/u/missing' },
      homedir: '/home/u',
      readFile: fakeFs({ '/home/u/a/config': fileA, '/home/u/b/config': fileB }),
      pathDelimiter: ':',
    });
    expect(view.files).toEqual(['/home/u/a/config', '/home/u/b/config']);
    expect(view.currentContext).toBe('a');
    expect(view.clusters.map((c) => [c.name, c.value.server, c.file])).toEqual([
      ['shared', 'https://a.example:6443', '/home/u/a/config'],
      ['only-a', 'https://only-a.example', '/home/u/a/config'],
      ['only-b', 'https://only-b.example', '/home/u/b/config'],
    ]);
    expect(view.contexts.find((c) => c.name === 'a')?.value.cluster).toBe('shared');
    expect(Object.isFrozen(view)).toBe(true);
    expect(Object.isFrozen(view.clusters[0]?.value)).toBe(true);
  });

  it('resolves relative paths against the file that holds them, and both tokenFile spellings', async () => {
    const view = await loadKubeconfig({
      env: { KUBECONFIG: '/home/u/a/config:/home/u/b/config' },
      homedir: '/home/u',
      readFile: fakeFs({ '/home/u/a/config': fileA, '/home/u/b/config': fileB }),
      pathDelimiter: ':',
    });
    expect(view.clusters[0]?.value.certificateAuthority).toBe('/home/u/a/certs/ca.crt');
    expect(view.users.find((u) => u.name === 'shared')?.value.tokenFile).toBe('/home/u/tokens/a');
    expect(view.users.find((u) => u.name === 'dash')?.value.tokenFile).toBe('/abs/token');
    const exec = view.users.find((u) => u.name === 'exec-user')?.value.exec;
    expect(exec).toMatchObject({
      command: '/home/u/a/bin/plugin',
      args: ['get-token'],
      env: [{ name: 'FOO', value: 'bar' }],
      interactiveMode: 'IfAvailable',
      provideClusterInfo: false,
    });
  });

  it('never prints tokens from the view', async () => {
    const view = await loadKubeconfig({
      env: { KUBECONFIG: '/b' },
      homedir: '/h',
      readFile: fakeFs({ '/b': fileB }),
    });
    expect(JSON.stringify(view)).not.toContain('from-b');
    expect(view.users[0]?.value.token?.reveal()).toBe('from-b');
  });

  it('falls back to ~/.kube/config, and gives an empty view when it does not exist', async () => {
    const view = await loadKubeconfig({
      env: {},
      homedir: '/home/u',
      readFile: fakeFs({ '/home/u/.kube/config': fileB }),
    });
    expect(view.files).toEqual(['/home/u/.kube/config']);
    expect(view.currentContext).toBe('b');
    const empty = await loadKubeconfig({ env: {}, homedir: '/home/u', readFile: fakeFs({}) });
    expect(empty.files).toEqual([]);
    expect(empty.contexts).toEqual([]);
  });

  it('KUBECONFIG_NOT_FOUND for a missing explicit file', async () => {
    await expect(
      loadKubeconfig({ env: {}, homedir: '/h', readFile: fakeFs({}), explicitPath: '/nope/config' }),
    ).rejects.toMatchObject({
      code: 'KUBECONFIG_NOT_FOUND',
    });
  });

  it('KUBECONFIG files that do not exist are skipped (kubectl), listed, and named when a context is resolved', async () => {
    const logger = new MemoryLogger();
    const view = await loadKubeconfig({
      env: { KUBECONFIG: '/x:/y' },
      homedir: '/h',
      readFile: fakeFs({}),
      pathDelimiter: ':',
      logger,
    });
    expect(view.files).toEqual([]);
    expect(view.missing).toEqual(['/x', '/y']);
    expect(logger.lines.some((l) => l.level === 'warn')).toBe(true);
    expect(() => resolveContext(view)).toThrow(expect.objectContaining({ code: 'KUBECONFIG_NOT_FOUND' }));
  });

  it('an explicit file replaces KUBECONFIG', async () => {
    const view = await loadKubeconfig({
      env: { KUBECONFIG: '/a' },
      homedir: '/h',
      readFile: fakeFs({ '/a': fileA, '/b': fileB }),
      explicitPath: '/b',
    });
    expect(view.files).toEqual(['/b']);
  });

  it('an unreadable file (not ENOENT) is KUBECONFIG_INVALID naming the file', async () => {
    const readFile = async () => {
      throw Object.assign(new Error('EACCES'), { code: 'EACCES' });
    };
    await expect(loadKubeconfig({ env: {}, homedir: '/h', readFile })).rejects.toMatchObject({
      code: 'KUBECONFIG_INVALID',
      details: { file: '/h/.kube/config' },
    });
  });
});

describe('parseKubeconfigFile: malformed samples in testdata/kubeconfig', () => {
  const cases: [string, string][] = [
    ['exec-missing-command.yaml', 'users[1].user.exec.command is missing'],
    ['not-yaml.yaml', 'the file is not valid YAML'],
    ['clusters-not-list.yaml', 'clusters must be a list, not a mapping'],
    ['cluster-missing-server.yaml', 'clusters[0].cluster.server is missing'],
    ['cluster-bad-server.yaml', 'clusters[0].cluster.server is not an http(s) URL'],
    ['user-missing-name.yaml', 'users[0].name is missing'],
    ['exec-bad-api-version.yaml', 'users[0].user.exec.apiVersion must be one of'],
    ['exec-bad-interactive-mode.yaml', 'users[0].user.exec.interactiveMode must be one of'],
    ['cert-without-key.yaml', 'users[0].user.client-key is missing'],
    ['insecure-not-bool.yaml', 'clusters[0].cluster.insecure-skip-tls-verify must be true or false'],
    ['context-missing-user.yaml', 'contexts[0].context.user is missing'],
    ['document-is-list.yaml', 'the document is not a mapping'],
    ['token-not-string.yaml', 'users[0].user.token must be a string, not a list'],
  ];
  for (const [name, expected] of cases) {
    it(`${name}: ${expected}`, () => {
      const file = `/home/u/.kube/${name}`;
      const text = readFileSync(join(testdata, name), 'utf8');
      let error: unknown;
      try {
        parseKubeconfigFile(text, file);
      } catch (e) {
        error = e;
      }
      expect(isRayConnectError(error, 'KUBECONFIG_INVALID')).toBe(true);
      const message = (error as Error).message;
      expect(message).toContain(expected);
      expect(message).toContain(`(file ${file})`);
      expect(message).not.toContain('placeholder-not-a-real-token');
    });
  }

  it('an empty file is an empty config', () => {
    expect(parseKubeconfigFile('', '/f')).toMatchObject({
      clusters: [],
      users: [],
      contexts: [],
      currentContext: undefined,
    });
  });
});

describe('resolveContext', () => {
  const view = async () =>
    loadKubeconfig({
      env: { KUBECONFIG: '/a:/b' },
      homedir: '/h',
      readFile: fakeFs({ '/a': fileA, '/b': fileB }),
      pathDelimiter: ':',
    });

  it('uses current-context and its namespace', async () => {
    const r = resolveContext(await view());
    expect(r).toMatchObject({ name: 'a', namespace: 'team-a' });
    expect(r.cluster.name).toBe('shared');
    expect(r.user.name).toBe('shared');
  });

  it('namespace defaults to "default"', async () => {
    expect(resolveContext(await view(), 'b').namespace).toBe('default');
  });

  it('CONTEXT_NOT_FOUND for an unknown context, listing the known ones', async () => {
    const v = await view();
    try {
      resolveContext(v, 'nope');
      expect.unreachable();
    } catch (e) {
      expect(e).toMatchObject({ code: 'CONTEXT_NOT_FOUND' });
      expect((e as { fix: string }).fix).toContain('a, b');
    }
  });

  it('CONTEXT_NOT_FOUND when no current-context is set', async () => {
    const empty = await loadKubeconfig({ env: {}, homedir: '/h', readFile: fakeFs({}) });
    expect(() => resolveContext(empty)).toThrow(expect.objectContaining({ code: 'CONTEXT_NOT_FOUND' }));
  });

  it('KUBECONFIG_INVALID when the context names a missing cluster or user', async () => {
    const text = `contexts:\n- name: x\n  context: {cluster: gone, user: gone}\ncurrent-context: x\n`;
    const v = await loadKubeconfig({ env: {}, homedir: '/h', readFile: fakeFs({ '/h/.kube/config': text }) });
    expect(() => resolveContext(v)).toThrow(expect.objectContaining({ code: 'KUBECONFIG_INVALID' }));
  });
});
