import { describe, expect, it } from 'vitest';
import { MemoryLogger } from '../ports/Logger.js';
import { createKubeClientFromContext } from './createKubeClientFromContext.js';
import type { KubeFetch, KubeFetchInit } from './createKubeClient.js';
import { loadKubeconfig } from './loadKubeconfig.js';

const kubeconfig = `
current-context: dev
clusters:
- name: dev
  cluster: {server: "https://dev:6443", certificate-authority: ca.crt}
- name: lab
  cluster: {server: "https://lab:6443", insecure-skip-tls-verify: true}
users:
- name: tok
  user: {tokenFile: token}
contexts:
- name: dev
  context: {cluster: dev, user: tok, namespace: team}
- name: lab
  context: {cluster: lab, user: tok}
`;

const files: Record<string, string> = {
  '/h/.kube/config': kubeconfig,
  '/h/.kube/ca.crt': 'DEV-CA',
  '/h/.kube/token': 'tok-value\n',
};
const readFile = async (p: string) => {
  const t = files[p];
  if (t === undefined) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
  return t;
};

describe('createKubeClientFromContext', () => {
  it('builds server, namespace, CA and credentials from the context', async () => {
    const view = await loadKubeconfig({ env: {}, homedir: '/h', readFile });
    const calls: KubeFetchInit[] = [];
    const fetch: KubeFetch = async (_url, init) => (
      calls.push(init),
      { status: 200, text: async () => '{}' }
    );
    const client = await createKubeClientFromContext(view, undefined, {
      readFile,
      fetch,
      env: {},
      workbenchBundle: '/none',
    });
    expect(client.server).toBe('https://dev:6443');
    expect(client.namespace).toBe('team');
    expect(await client.webSocketOptions()).toMatchObject({
      ca: 'DEV-CA',
      rejectUnauthorized: true,
      headers: { Authorization: 'Bearer tok-value' },
    });
    await client.request({ path: '/api' });
    expect(calls[0]?.headers.Authorization).toBe('Bearer tok-value');
  });

  it('honours the cluster insecure-skip-tls-verify with a warning; the namespace option overrides', async () => {
    const view = await loadKubeconfig({ env: {}, homedir: '/h', readFile });
    const logger = new MemoryLogger();
    const client = await createKubeClientFromContext(view, 'lab', {
      readFile,
      env: {},
      logger,
      namespace: 'x',
      workbenchBundle: '/none',
    });
    expect(client.namespace).toBe('x');
    expect((await client.webSocketOptions()).rejectUnauthorized).toBe(false);
    expect(logger.lines.some((l) => l.level === 'warn')).toBe(true);
  });

  it('unknown context: CONTEXT_NOT_FOUND', async () => {
    const view = await loadKubeconfig({ env: {}, homedir: '/h', readFile });
    await expect(createKubeClientFromContext(view, 'nope', { readFile })).rejects.toMatchObject({
      code: 'CONTEXT_NOT_FOUND',
    });
  });
});
