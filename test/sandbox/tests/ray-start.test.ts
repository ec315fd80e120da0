// Robustness of lib/ray.mjs's head start, on a private no-auth head (own state dir, every port shifted by
// RC_RAY_PORT_OFFSET) so the shared sandbox's heads are never touched:
// - a start that fails the way it does on a loaded machine (a dashboard module not ready in time: "Module
//   MetricsHead failed to start") is stopped and started again, with a log line saying so;
// - a head that still fails after the last attempt is reported by name and leaves no process behind;
// - every port the head listens on is on the loopback interface.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authMode, jobSucceeded, rayJobSubmit } from './helpers';

const rayModule = resolve(__dirname, '..', 'lib', 'ray.mjs');
const OFFSET = '2000';
// a dashboard module readiness timeout no real start meets: Ray's own "Module ... failed to start. Timeout"
const FAULT = { RAY_DASHBOARD_SUBPROCESS_MODULE_WAIT_READY_TIMEOUT: '0.01' };

interface Run {
  code: number | null;
  out: string;
  err: string;
}

/** Runs one lib/ray.mjs call in a child Node with the port offset (the module reads it at load). */
function rayCall(
  stateDir: string,
  call: 'start' | 'stop' | 'pids' | 'tempdir',
  opts: object = {},
): Promise<Run> {
  const script = `
    const ray = await import(${JSON.stringify(rayModule)});
    const o = JSON.parse(process.env.RC_TEST_OPTS);
    const log = (m) => process.stderr.write('[ray] ' + m + '\\n');
    if (o.call === 'tempdir') console.log(ray.rayTempDir(o.stateDir, 'noauth'));
    else if (o.call === 'stop') await ray.stopRayHeads({ stateDir: o.stateDir, heads: ['noauth'], log });
    else if (o.call === 'pids') console.log(JSON.stringify({ pids: ray.headPids(o.stateDir, 'noauth'), ports: ray.headPorts('noauth'), dashboard: ray.HEADS.noauth.dashboard }));
    else {
      try {
        const r = await ray.startRayHeads({ stateDir: o.stateDir, heads: ['noauth'], log, ...o.opts });
        console.log(JSON.stringify(r));
      } catch (e) {
        process.stderr.write('FAILED ' + JSON.stringify(e.failed) + ' ' + e.message + '\\n');
        process.exitCode = 3;
      }
    }`;
  return new Promise((res) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      env: {
        ...process.env,
        RC_RAY_PORT_OFFSET: OFFSET,
        RC_TEST_OPTS: JSON.stringify({ stateDir, call, opts }),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => res({ code, out, err }));
  });
}

async function pidsAndPorts(
  stateDir: string,
): Promise<{ pids: number[]; ports: number[]; dashboard: number }> {
  const r = await rayCall(stateDir, 'pids');
  return JSON.parse(r.out);
}

/** Local addresses of the TCP listeners of the given processes, from `ss -ltnpH`. */
function listeners(pids: number[]): { addr: string; port: number; proc: string }[] {
  const out = spawnSync('ss', ['-ltnpH'], { encoding: 'utf8' }).stdout;
  const rows = [];
  for (const line of out.split('\n')) {
    const pid = /pid=(\d+)/.exec(line);
    if (!pid || !pids.includes(Number(pid[1]))) continue;
    const local = line.trim().split(/\s+/)[3];
    const i = local.lastIndexOf(':');
    rows.push({
      addr: local.slice(0, i),
      port: Number(local.slice(i + 1)),
      proc: /\("([^"]+)"/.exec(line)?.[1] ?? '',
    });
  }
  return rows;
}

describe('a private no-auth head (ports +2000)', () => {
  // short: Ray's socket paths under the temp dir must stay below 107 bytes
  const stateDir = mkdtempSync(join(tmpdir(), 'rcst-'));
  let dashboard = 0;

  beforeAll(async () => {
    dashboard = (await pidsAndPorts(stateDir)).dashboard;
  });

  afterAll(async () => {
    await rayCall(stateDir, 'stop');
    const link = (await rayCall(stateDir, 'tempdir')).out.trim();
    rmSync(stateDir, { recursive: true, force: true });
    // the short /tmp/rcray-* symlink lib/ray.mjs made for Ray's socket paths, if it made one
    if (link && !link.startsWith(stateDir)) rmSync(dirname(link), { force: true });
  });

  it('a first start that fails like on a loaded machine (a dashboard module not ready) is stopped and retried', async () => {
    const r = await rayCall(stateDir, 'start', { attemptEnv: { 1: FAULT } });
    // Which module times out first is a race between them (MetricsHead, ReportHead, ...): any one will do.
    expect(r.err).toMatch(/Ray head "noauth" failed to start \(attempt 1\/3\).*Module \w+ failed to start/);
    expect(r.err).toMatch(/stopped, starting again/);
    expect(r.code, r.err).toBe(0);
    const heads = JSON.parse(r.out);
    expect(heads.noauth.dashboard).toBe(dashboard);
    expect(await authMode(dashboard)).toBe('disabled');
  }, 400_000);

  it('listens on loopback only (GCS, raylet, client server, dashboard, agents, metrics)', async () => {
    const { pids, ports } = await pidsAndPorts(stateDir);
    const rows = listeners(pids);
    const seen = new Set(rows.map((r) => r.port));
    for (const p of ports) expect(seen.has(p), `port ${p} listened on`).toBe(true);
    const outside = rows.filter(
      (r) => !/^(127\.\d+\.\d+\.\d+|\[::ffff:127\.\d+\.\d+\.\d+\]|\[::1\])$/.test(r.addr),
    );
    expect(outside).toEqual([]);
  });

  it('runs a job; the job supervisor and workers listen on loopback too', async () => {
    const r = await rayJobSubmit(dashboard);
    expect(jobSucceeded(r), r.out).toBe(true);
    const { pids, ports } = await pidsAndPorts(stateDir);
    const rows = listeners(pids);
    expect(rows.length).toBeGreaterThan(ports.length);
    expect(rows.filter((x) => !/127\.0\.0\.1/.test(x.addr))).toEqual([]);
  }, 300_000);

  it('a head that fails on every attempt is named, and none of its processes stays', async () => {
    await rayCall(stateDir, 'stop');
    const r = await rayCall(stateDir, 'start', { attempts: 1, attemptEnv: { 1: FAULT } });
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/failed to start \(attempt 1\/1\), giving up/);
    expect(r.err).toMatch(/FAILED \["noauth"\] Ray head "noauth" not up/);
    const { pids } = await pidsAndPorts(stateDir);
    expect(pids).toEqual([]);
    expect(await authMode(dashboard).catch(() => 'no answer')).toBe('no answer');
  }, 400_000);
});
