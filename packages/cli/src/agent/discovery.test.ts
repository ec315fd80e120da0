import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { agentsDir, findAgent, publishAgent } from './discovery.js';

const SECRET = 's'.repeat(32);
const tempConfig = () => mkdtempSync(join(tmpdir(), 'rc-discovery-'));

function plant(configDir: string, pid: number, fields: Record<string, unknown> = {}, mode = 0o600): string {
  mkdirSync(agentsDir(configDir), { recursive: true, mode: 0o700 });
  const file = join(agentsDir(configDir), `${pid}.json`);
  const body = {
    pid,
    port: 40000 + (pid % 1000),
    version: '0.1.0',
    protocol: 1,
    startedAt: pid,
    secret: SECRET,
  };
  writeFileSync(file, JSON.stringify({ ...body, ...fields }), { mode });
  chmodSync(file, mode);
  return file;
}

function collect() {
  const warnings: string[] = [];
  return { warnings, warn: (m: string) => void warnings.push(m) };
}

describe('agent discovery', () => {
  it('publishes a 0600 file in a 0700 dir, finds it (this process holds the port), and removes it', async () => {
    const configDir = tempConfig();
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    onTestFinished(() => void server.close());
    const published = await publishAgent(configDir, {
      pid: process.pid,
      port,
      version: '0.1.0',
      protocol: 1,
      startedAt: Date.now(),
      secret: SECRET,
    });
    expect(statSync(agentsDir(configDir)).mode & 0o777).toBe(0o700);
    expect(statSync(published.file).mode & 0o777).toBe(0o600);
    const { warn, warnings } = collect();
    const found = await findAgent(configDir, 1, { warn });
    expect(found).toMatchObject({ pid: process.pid, port, protocol: 1 });
    expect(found?.secret.reveal()).toBe(SECRET);
    expect(String(found?.secret)).toBe('[REDACTED]');
    expect(warnings).toEqual([]);
    await published.remove();
    expect(existsSync(published.file)).toBe(false);
    expect(await findAgent(configDir, 1, { warn })).toBeUndefined();
  });

  it('a live pid that does not hold the port (its agent died, the port is free or taken): ignored, file removed', async () => {
    if (process.platform !== 'linux') return;
    const configDir = tempConfig();
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const file = plant(configDir, process.pid, { port });
    const { warn } = collect();
    expect(await findAgent(configDir, 1, { warn })).toBeUndefined();
    expect(existsSync(file)).toBe(false);
  });

  it('ignores and removes the files of dead pids; the newest live agent wins', async () => {
    const configDir = tempConfig();
    const alive = new Set([101, 102]);
    const dead = plant(configDir, 103, { startedAt: 3000 });
    plant(configDir, 101, { startedAt: 1000 });
    plant(configDir, 102, { startedAt: 2000 });
    const { warn, warnings } = collect();
    const found = await findAgent(configDir, 1, {
      warn,
      isAlive: (pid) => alive.has(pid),
      holdsPort: async () => true,
    });
    expect(found?.pid).toBe(102);
    expect(existsSync(dead)).toBe(false);
    expect(warnings).toEqual([]);
  });

  it('publishing cleans up files of agents that died without removing theirs', async () => {
    const configDir = tempConfig();
    // A pid that cannot be a live process (above the kernel's pid_max).
    const stale = plant(configDir, 99_999_999);
    await publishAgent(configDir, {
      pid: process.pid,
      port: 1,
      version: '0.1.0',
      protocol: 1,
      startedAt: 1,
      secret: SECRET,
    });
    expect(existsSync(stale)).toBe(false);
  });

  it('ignores a file with a mode other than 0600, with a warning naming the file and the fix', async () => {
    const configDir = tempConfig();
    const file = plant(configDir, 201, {}, 0o644);
    const { warn, warnings } = collect();
    expect(
      await findAgent(configDir, 1, { warn, isAlive: () => true, holdsPort: async () => true }),
    ).toBeUndefined();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(file);
    expect(warnings[0]).toMatch(/mode 0644, not 0600/);
    expect(warnings[0]).toMatch(/rm /);
    expect(readFileSync(file, 'utf8')).toContain('"pid":201'); // left alone: it is not ours to judge
  });

  it('ignores a file owned by another uid', async () => {
    const configDir = tempConfig();
    plant(configDir, 202);
    const { warn, warnings } = collect();
    const other = (process.getuid?.() ?? 0) + 1;
    expect(
      await findAgent(configDir, 1, { warn, uid: other, isAlive: () => true, holdsPort: async () => true }),
    ).toBeUndefined();
    expect(warnings[0]).toMatch(new RegExp(`owned by uid \\d+, not by you \\(uid ${other}\\)`));
  });

  it('does not follow a symbolic link', async () => {
    const configDir = tempConfig();
    const target = plant(tempConfig(), 203);
    mkdirSync(agentsDir(configDir), { recursive: true });
    symlinkSync(target, join(agentsDir(configDir), '203.json'));
    const { warn, warnings } = collect();
    expect(
      await findAgent(configDir, 1, { warn, isAlive: () => true, holdsPort: async () => true }),
    ).toBeUndefined();
    expect(warnings[0]).toMatch(/symbolic link/);
  });

  it('ignores malformed files and agents of another protocol, each with a warning', async () => {
    const configDir = tempConfig();
    plant(configDir, 301, { secret: 'short' });
    plant(configDir, 302, { port: 'x' });
    plant(configDir, 303, { protocol: 2, version: '9.0.0' });
    const { warn, warnings } = collect();
    expect(
      await findAgent(configDir, 1, { warn, isAlive: () => true, holdsPort: async () => true }),
    ).toBeUndefined();
    expect(warnings).toHaveLength(3);
    expect(warnings.join('\n')).toMatch(/speaks protocol 2, this ray-connect speaks 1/);
  });

  it('no config dir yet: nothing found, no warning', async () => {
    const { warn, warnings } = collect();
    expect(await findAgent(join(tempConfig(), 'none'), 1, { warn })).toBeUndefined();
    expect(warnings).toEqual([]);
  });
});
