import { copyFileSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Secret } from '../secret.js';
import { FileSecretStore } from './fileSecretStore.js';

describe('FileSecretStore', () => {
  it('keeps secrets in a 0600 file inside a 0700 directory and says it is a file', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'rc-file-')), 'secrets');
    const path = join(dir, 'secrets.json');
    const store = new FileSecretStore(path);
    expect(store.info.kind).toBe('file');
    expect(store.info.label).toContain(path);
    await store.set('ray-connect/c1/token', new Secret('t1'));
    await store.set('ray-connect/c2/token', new Secret('t2'));
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect((await store.get('ray-connect/c1/token'))?.reveal()).toBe('t1');
    expect(await store.keys('ray-connect/c1/')).toEqual(['ray-connect/c1/token']);
    expect(await new FileSecretStore(path).get('ray-connect/c2/token')).toBeDefined();
    expect(await store.delete('ray-connect/c1/token')).toBe(true);
    expect(await store.delete('ray-connect/c1/token')).toBe(false);
    expect(await store.get('ray-connect/c1/token')).toBeUndefined();
    expect(readdirSync(dir).sort()).toEqual(['secrets.json']); // no temp or lock files left behind
  });

  it('does not lose writes from concurrent writers', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'rc-file-')), 'secrets.json');
    const a = new FileSecretStore(path);
    const b = new FileSecretStore(path);
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).set(`k${i}`, new Secret(`v${i}`))),
    );
    expect(await a.keys('k')).toHaveLength(20);
  });

  it('reads a missing file as empty and refuses a malformed one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rc-file-'));
    expect(await new FileSecretStore(join(dir, 'none.json')).keys('')).toEqual([]);
    const bad = join(dir, 'bad.json');
    copyFileSync(new URL('../../testdata/auth/secrets-array.json', import.meta.url), bad);
    await expect(new FileSecretStore(bad).get('x')).rejects.toMatchObject({
      code: 'SECRET_STORE_FAILED',
      message: expect.stringContaining(bad),
    });
    expect(readFileSync(bad, 'utf8')).toContain('not');
  });

  it('a write that cannot happen (the directory cannot be created) -> SECRET_STORE_FAILED naming the file, with a fix', async () => {
    const root = mkdtempSync(join(tmpdir(), 'rc-file-'));
    writeFileSync(join(root, 'not-a-dir'), 'x');
    const path = join(root, 'not-a-dir', 'secrets.json');
    const e = await new FileSecretStore(path).set('k', new Secret('v')).catch((x: unknown) => x);
    expect(e).toMatchObject({
      code: 'SECRET_STORE_FAILED',
      message: expect.stringContaining(path),
      fix: expect.stringContaining(join(root, 'not-a-dir')),
      details: { file: path },
    });
  });
});
