import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isRayConnectError } from '../errors.js';
import { FakeClock } from '../ports/Clock.js';
import { execCredentialSource, type ExecCredentialSourceOptions } from './execCredentialSource.js';
import type { KubeExecConfig } from './kubeconfigTypes.js';

const plugin = join(import.meta.dirname, '../../testdata/exec-plugins/fake-plugin.mjs');
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'exec-plugin-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const runs = () => {
  try {
    return readFileSync(join(dir, 'count'), 'utf8').length;
  } catch {
    return 0;
  }
};

function source(
  env: Record<string, string>,
  exec: Partial<KubeExecConfig> = {},
  opts: Partial<ExecCredentialSourceOptions> = {},
) {
  const config: KubeExecConfig = {
    command: plugin,
    args: [],
    env: Object.entries({ COUNT_FILE: join(dir, 'count'), ...env }).map(([name, value]) => ({ name, value })),
    apiVersion: 'client.authentication.k8s.io/v1',
    provideClusterInfo: false,
    interactiveMode: 'Never',
    ...exec,
  };
  return execCredentialSource({ exec: config, env: { PATH: process.env.PATH }, ...opts });
}

async function codeOf(p: Promise<unknown>): Promise<{ code: string; message: string; fix?: string }> {
  try {
    await p;
  } catch (e) {
    if (isRayConnectError(e)) return { code: e.code, message: e.message, ...(e.fix ? { fix: e.fix } : {}) };
    throw e;
  }
  throw new Error('expected a rejection');
}

describe('execCredentialSource (real node scripts as plugins)', () => {
  it('returns the token and reuses it until expirationTimestamp, then runs the plugin again', async () => {
    const clock = new FakeClock(Date.parse('2030-01-01T00:00:00Z'));
    const s = source({ EXPIRES_AT: '2030-01-01T00:10:00Z' }, {}, { clock, renewBeforeMs: 0 });
    const first = await s.get();
    expect(first.token?.reveal()).toBe('tok-1');
    expect(first.expiresAt).toBe(Date.parse('2030-01-01T00:10:00Z'));
    clock.advance(5 * 60_000);
    expect((await s.get()).token?.reveal()).toBe('tok-1');
    expect(runs()).toBe(1);
    clock.advance(5 * 60_000);
    expect((await s.get()).token?.reveal()).toBe('tok-2');
    expect(runs()).toBe(2);
  });

  it('a short-lived credential is reused for most of its lifetime (the renew margin is at most a quarter of it)', async () => {
    const clock = new FakeClock(Date.parse('2030-01-01T00:00:00Z'));
    const s = source({ EXPIRES_AT: '2030-01-01T00:00:02Z' }, {}, { clock });
    await s.get();
    clock.advance(1000);
    await s.get();
    expect(runs()).toBe(1);
    clock.advance(600);
    await s.get();
    expect(runs()).toBe(2);
  });

  it('without expirationTimestamp, the credential is kept until invalidate()', async () => {
    const s = source({});
    await s.get();
    await s.get();
    expect(runs()).toBe(1);
    s.invalidate?.();
    expect((await s.get()).token?.reveal()).toBe('tok-2');
  });

  it('N concurrent callers share one run', async () => {
    const s = source({});
    const all = await Promise.all(Array.from({ length: 8 }, () => s.get()));
    expect(new Set(all.map((c) => c.token?.reveal()))).toEqual(new Set(['tok-1']));
    expect(runs()).toBe(1);
  });

  it('v1beta1 works; an apiVersion that does not match the kubeconfig fails', async () => {
    const beta = source(
      { API_VERSION: 'client.authentication.k8s.io/v1beta1' },
      { apiVersion: 'client.authentication.k8s.io/v1beta1' },
    );
    expect((await beta.get()).token?.reveal()).toBe('tok-1');
    const mismatch = source({ API_VERSION: 'client.authentication.k8s.io/v1beta1' });
    expect(await codeOf(mismatch.get())).toMatchObject({ code: 'EXEC_PLUGIN_FAILED' });
  });

  it('passes KUBERNETES_EXEC_INFO with the cluster when provideClusterInfo, kubeconfig env, and stdin is not a TTY', async () => {
    const info = join(dir, 'info');
    const s = source(
      { INFO_FILE: info, FOO: 'bar' },
      { provideClusterInfo: true },
      {
        cluster: { server: 'https://k:6443', certificateAuthorityData: 'Q0E=', config: { audience: 'x' } },
      },
    );
    await s.get();
    const seen = JSON.parse(readFileSync(info, 'utf8')) as { info: string; stdinIsTTY: boolean; foo: string };
    expect(seen.stdinIsTTY).toBe(false);
    expect(seen.foo).toBe('bar');
    expect(JSON.parse(seen.info)).toEqual({
      apiVersion: 'client.authentication.k8s.io/v1',
      kind: 'ExecCredential',
      spec: {
        interactive: false,
        cluster: {
          server: 'https://k:6443',
          'certificate-authority-data': 'Q0E=',
          config: { audience: 'x' },
        },
      },
    });
  });

  it('without provideClusterInfo, KUBERNETES_EXEC_INFO has no cluster', async () => {
    const info = join(dir, 'info');
    await source({ INFO_FILE: info }, {}, { cluster: { server: 'https://k:6443' } }).get();
    const seen = JSON.parse(readFileSync(info, 'utf8')) as { info: string };
    expect(JSON.parse(seen.info).spec).toEqual({ interactive: false });
  });

  it('a plugin that hangs is stopped by the timeout: EXEC_PLUGIN_FAILED', async () => {
    const e = await codeOf(source({ PLUGIN_MODE: 'hang' }, {}, { timeoutMs: 300 }).get());
    expect(e.code).toBe('EXEC_PLUGIN_FAILED');
    expect(e.message).toContain('fake-plugin.mjs did not finish');
  });

  it('garbage output: EXEC_PLUGIN_FAILED naming the command, never quoting stdout', async () => {
    const e = await codeOf(source({ PLUGIN_MODE: 'garbage' }).get());
    expect(e.code).toBe('EXEC_PLUGIN_FAILED');
    expect(e.message).toContain('fake-plugin.mjs');
    expect(e.message).not.toContain('placeholder-secret');
    const wrongKind = await codeOf(source({ PLUGIN_MODE: 'wrong-kind' }).get());
    expect(wrongKind.message).toContain('kind "Secret"');
    expect(wrongKind.message).not.toContain('placeholder-secret');
    expect((await codeOf(source({ PLUGIN_MODE: 'no-token' }).get())).code).toBe('EXEC_PLUGIN_FAILED');
  });

  it('a failing plugin: EXEC_PLUGIN_FAILED with the exit code and stderr first line', async () => {
    const e = await codeOf(source({ PLUGIN_MODE: 'fail' }).get());
    expect(e.code).toBe('EXEC_PLUGIN_FAILED');
    expect(e.message).toContain('exited with code 3: error: you must be logged in to the server');
    expect(e.message).not.toContain('more detail');
  });

  it('after a failure the next get() runs the plugin again', async () => {
    const s = source({ PLUGIN_MODE: 'fail' });
    await codeOf(s.get());
    await codeOf(s.get());
    expect(runs()).toBe(2);
  });

  it('interactiveMode Always: EXEC_PLUGIN_INTERACTIVE telling the user to use a terminal, without running it', async () => {
    const e = await codeOf(source({}, { interactiveMode: 'Always' }).get());
    expect(e.code).toBe('EXEC_PLUGIN_INTERACTIVE');
    expect(e.fix).toContain('terminal');
    expect(runs()).toBe(0);
  });

  it('a missing command: EXEC_PLUGIN_FAILED with the installHint as the fix', async () => {
    const e = await codeOf(
      source(
        {},
        { command: join(dir, 'no-such-plugin'), installHint: 'Install it with brew install x' },
      ).get(),
    );
    expect(e).toMatchObject({ code: 'EXEC_PLUGIN_FAILED', fix: 'Install it with brew install x' });
    expect(e.message).toContain('no-such-plugin was not found');
  });

  it('one caller aborting does not cancel the shared run', async () => {
    const s = source({});
    const ac = new AbortController();
    const a = s.get(ac.signal);
    const b = s.get();
    ac.abort(new Error('cancelled'));
    await expect(a).rejects.toThrow('cancelled');
    expect((await b).token?.reveal()).toBe('tok-1');
  });
});
