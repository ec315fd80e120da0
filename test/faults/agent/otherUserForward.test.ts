// Another local user (uid 65534 via setpriv; needs root, as in CI) against A's forwards of the no-auth cluster: the
// loopback ports are reachable by every local user and the cluster itself asks for nothing, so the forward's owner
// check (/proc/net/tcp uid) is what keeps them out. HTTP to the dashboard forward and a raw TCP connection to the Ray
// Client forward (gRPC) are both closed with no byte answered, while A still gets the dashboard and a gRPC answer.
// Skipped (with the reason) when not root or setpriv is missing.
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createRayConnect,
  FakeBrowser,
  MemoryLogger,
  MemorySecretStore,
  type RayConnect,
  systemClock,
} from '../../../packages/core/src/index.js';
import type { ConnectionSummary } from '../../../shared/src/index.js';
import { run, sandbox, tempDir } from '../helpers.js';

const setpriv = '/usr/bin/setpriv';
const canSwitch = process.getuid?.() === 0 && existsSync(setpriv);
// async: the forwards live in this process, so its event loop must keep running while the other user connects
const asNobody = (script: string) =>
  run(
    setpriv,
    [
      '--reuid=65534',
      '--regid=65534',
      '--clear-groups',
      process.execPath,
      '--input-type=module',
      '-e',
      script,
    ],
    { PATH: process.env.PATH },
    undefined,
    30_000,
  );

// HTTP/2 connection preface + an empty SETTINGS frame: what a gRPC (Ray Client) connection starts with.
const H2_PREFACE = Buffer.concat([
  Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'),
  Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]),
]);

/** Node source: connect to 127.0.0.1:port, send the preface, count bytes until closed (or 5 s), print JSON. */
const rawClient = (port: number) => `
  import { connect } from 'node:net';
  const s = connect(${port}, '127.0.0.1');
  let bytes = 0;
  const t = setTimeout(() => { console.log(JSON.stringify({ bytes, closed: false })); process.exit(0); }, 5000);
  s.on('connect', () => s.write(Buffer.from('${H2_PREFACE.toString('base64')}', 'base64')));
  s.on('data', (d) => (bytes += d.length));
  s.on('error', () => undefined);
  s.on('close', () => { clearTimeout(t); console.log(JSON.stringify({ bytes, closed: true })); });`;

function ownRawClient(port: number): Promise<{ bytes: number }> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    const t = setTimeout(() => (s.destroy(), reject(new Error('no gRPC answer within 15 s'))), 15_000);
    s.on('connect', () => s.write(H2_PREFACE));
    s.once('data', (d: Buffer) => {
      clearTimeout(t);
      s.destroy();
      resolve({ bytes: d.length });
    });
    s.on('error', reject);
  });
}

describe.skipIf(!canSwitch)("another local user against A's forwards (setpriv to uid 65534)", () => {
  let api: RayConnect;
  let logger: MemoryLogger;
  let summary: ConnectionSummary;
  let dashboardPort: number;
  let clientPort: number;

  beforeAll(async () => {
    const s = sandbox();
    logger = new MemoryLogger();
    api = createRayConnect({
      store: new MemorySecretStore(),
      logger,
      clock: systemClock,
      browser: new FakeBrowser(),
      configDir: tempDir('rc-faults-cfg-'),
      // the port-forward path on purpose: the forwards are what is checked
      env: { KUBECONFIG: s.adminKubeconfig, RAY_CONNECT_PATH: 'forward' },
      homedir: tempDir('rc-faults-home-'),
      version: 'faults',
    });
    const clusterId = (await api.listClusters())[0]?.id ?? '';
    summary = await api.connect({
      clusterId,
      namespace: s.namespace,
      name: s.rayClusters.noauth ?? 'raycluster-noauth',
    });
    dashboardPort = Number(new URL(summary.dashboardUrl ?? '').port);
    clientPort = Number(new URL((summary.clientAddress ?? '').replace(/^ray:/, 'http:')).port);
  });
  afterAll(async () => {
    await api?.close();
  });

  it('connected over the forward to a cluster without auth', () => {
    expect(summary).toMatchObject({ state: 'ready', path: 'forward', authMode: 'none' });
  });

  it('HTTP: the dashboard forward closes on them with no answer; A still gets 200', async () => {
    const r = await asNobody(`
      try {
        const res = await fetch('http://127.0.0.1:${dashboardPort}/api/version', { signal: AbortSignal.timeout(10000) });
        console.log(JSON.stringify({ status: res.status }));
      } catch (e) {
        console.log(JSON.stringify({ error: e.cause?.code ?? e.name }));
      }`);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim()) as { status?: number; error?: string };
    expect(out.status).toBeUndefined();
    expect(out.error).toBeTruthy();
    expect(out.error).not.toBe('TimeoutError'); // closed on them, not left hanging
    expect((await fetch(`http://127.0.0.1:${dashboardPort}/api/version`)).status).toBe(200);
  });

  it('Ray Client (gRPC): the TCP connection is closed with no bytes; A gets the server preface', async () => {
    const r = await asNobody(rawClient(clientPort));
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim())).toEqual({ bytes: 0, closed: true });
    expect((await ownRawClient(clientPort)).bytes).toBeGreaterThan(0);
  });

  it('refusals are logged at debug with the uid, never with data', () => {
    const refused = logger.lines.filter((l) => l.message.includes('refused a connection of another user'));
    expect(refused.length).toBeGreaterThanOrEqual(2);
    for (const l of refused) {
      expect(l.level).toBe('debug');
      expect(l.fields?.uid).toBe(65534);
      expect(Object.keys(l.fields ?? {}).sort()).toEqual(['localPort', 'peerPort', 'uid']);
    }
  });
});
