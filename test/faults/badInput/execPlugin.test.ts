// Exec credential plugins that misbehave: garbage, nothing, too much, bad ExecCredential fields, bad timestamps,
// hanging. Always EXEC_PLUGIN_FAILED naming the plugin, never quoting stdout (it may hold a credential).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { execCredentialSource, isRayConnectError } from '../../../packages/core/src/index.js';
import { tempDir } from '../helpers.js';

const V1 = 'client.authentication.k8s.io/v1';
const SECRET = 'plugin-secret-value-7f3a';

function plugin(body: string) {
  const dir = tempDir('rc-faults-exec-');
  const file = join(dir, 'plugin.mjs');
  writeFileSync(file, body);
  return execCredentialSource({
    exec: {
      apiVersion: V1,
      command: process.execPath,
      args: [file],
      env: [],
      provideClusterInfo: false,
    } as never,
    env: { PATH: process.env.PATH },
    timeoutMs: 5_000,
  });
}

const cred = (status: unknown, extra: Record<string, unknown> = {}) =>
  `process.stdout.write(${JSON.stringify(JSON.stringify({ apiVersion: V1, kind: 'ExecCredential', status, ...extra }))});`;

async function failure(body: string) {
  try {
    await plugin(body).get();
  } catch (e) {
    expect(isRayConnectError(e, 'EXEC_PLUGIN_FAILED'), String(e)).toBe(true);
    const info = (e as { toInfo(): unknown }).toInfo();
    expect(JSON.stringify(info)).not.toContain(SECRET);
    return e as Error;
  }
  throw new Error('expected EXEC_PLUGIN_FAILED');
}

describe('exec plugins that misbehave -> EXEC_PLUGIN_FAILED, output never quoted', () => {
  it.each([
    ['prints nothing', ''],
    ['prints garbage', `process.stdout.write('\\u0000\\u00ff<html>${SECRET}</html>')`],
    ['prints a JSON scalar', `process.stdout.write('"${SECRET}"')`],
    ['prints null', `process.stdout.write('null')`],
    ['prints a list', `process.stdout.write('[1,2]')`],
    ['wrong kind', cred({ token: SECRET }, { kind: 'Secret' })],
    ['wrong apiVersion', cred({ token: SECRET }, { apiVersion: 'client.authentication.k8s.io/v1beta1' })],
    ['no status', `process.stdout.write(JSON.stringify({ apiVersion: '${V1}', kind: 'ExecCredential' }))`],
    ['status is a string', cred(SECRET)],
    ['empty token', cred({ token: '' })],
    ['token is a number', cred({ token: 12345 })],
    ['cert without key', cred({ clientCertificateData: SECRET })],
    ['neither token nor cert', cred({})],
    ['expirationTimestamp not a date', cred({ token: SECRET, expirationTimestamp: 'tomorrow-ish' })],
    ['expirationTimestamp a number', cred({ token: SECRET, expirationTimestamp: 1700000000 })],
    ['expirationTimestamp an object', cred({ token: SECRET, expirationTimestamp: { at: 1 } })],
    ['too much (2 MiB) on stdout', `process.stdout.write('x'.repeat(2 * 1024 * 1024) + '${SECRET}')`],
    ['valid JSON followed by garbage', `${cred({ token: SECRET })}; process.stdout.write('trailing')`],
    ['exits 1 with a long stderr', `process.stderr.write('boom\\n' + 'y'.repeat(200000)); process.exit(1)`],
    ['killed by a signal', `process.kill(process.pid, 'SIGKILL')`],
  ])('%s', async (_label, body) => {
    const e = await failure(body);
    expect(e.message).toMatch(/node/); // names the plugin command
    expect(e.message.length).toBeLessThan(400);
  });

  it('a plugin that hangs is killed at the timeout', async () => {
    const e = await failure('setInterval(() => {}, 1000)');
    expect(e.message).toMatch(/did not finish/);
  });

  it('a plugin that is not executable / not found', async () => {
    const src = execCredentialSource({
      exec: {
        apiVersion: V1,
        command: join(tempDir(), 'no-such-plugin'),
        args: [],
        env: [],
        provideClusterInfo: false,
      } as never,
      env: { PATH: process.env.PATH },
    });
    await expect(src.get()).rejects.toMatchObject({ code: 'EXEC_PLUGIN_FAILED', message: /not found/ });
  });

  it('an expirationTimestamp in the past: used once, then the plugin runs again on the next call', async () => {
    const dir = tempDir();
    const counter = join(dir, 'n');
    writeFileSync(counter, '0');
    const src = plugin(
      `import { readFileSync, writeFileSync } from 'node:fs';
       const n = Number(readFileSync(${JSON.stringify(counter)}, 'utf8')) + 1;
       writeFileSync(${JSON.stringify(counter)}, String(n));
       process.stdout.write(JSON.stringify({ apiVersion: '${V1}', kind: 'ExecCredential', status: { token: 't' + n, expirationTimestamp: '2001-01-01T00:00:00Z' } }));`,
    );
    const a = await src.get();
    const b = await src.get();
    expect(a.token?.reveal()).toBe('t1');
    expect(b.token?.reveal()).toBe('t2');
  });

  it('a valid credential with trailing whitespace and odd bytes passes the token through untouched', async () => {
    const token = 'ab+/c==,d';
    const src = plugin(`${cred({ token })}; process.stdout.write('\\n\\n')`);
    expect((await src.get()).token?.reveal()).toBe(token);
  });
});
