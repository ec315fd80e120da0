// The cost of the forwards' owner check per accepted connection: createPeerCheck (the core's, from dist) reads
// /proc/net/tcp and finds the connecting socket's uid. Two local relays to the same HTTP target, one that awaits
// the check before piping and one that does not, take new-connection requests in interleaved rounds; the check's
// own time per call is measured beside. No sandbox needed.
import { createServer as createHttpServer, request } from 'node:http';
import { connect, createServer } from 'node:net';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { coreFn } from '../lib/core.mjs';
import { figure, notAvailable, ratio, reasonOf } from '../lib/figures.mjs';
import { summary } from '../lib/stats.mjs';

export const title = 'Forward owner check: cost per new connection (/proc/net/tcp uid lookup)';

const ROUNDS = 8;
const PER_ROUND = 100;
const silent = { trace() {}, debug() {}, info() {}, warn() {}, error() {} };

const listen = (server) =>
  new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));

function relay(targetPort, check, checkMs) {
  return createServer({ pauseOnConnect: true, noDelay: true }, async (c) => {
    if (check) {
      const t0 = performance.now();
      const ok = await check(c);
      checkMs.push(performance.now() - t0);
      if (!ok) return void c.destroy();
    }
    const u = connect({ port: targetPort, host: '127.0.0.1', noDelay: true });
    const done = () => (c.destroy(), u.destroy());
    c.on('error', done).on('close', done);
    u.on('error', done).on('close', done);
    c.pipe(u);
    u.pipe(c);
    c.resume();
  });
}

function getOnce(port) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    request({ host: '127.0.0.1', port, path: '/small', agent: false }, (res) => {
      res.resume();
      res.on('end', () =>
        res.statusCode === 200
          ? resolve(performance.now() - t0)
          : reject(new Error(`HTTP ${res.statusCode}`)),
      );
    })
      .on('error', reject)
      .end();
  });
}

export async function run(ctx) {
  if (process.platform !== 'linux')
    return {
      figures: [notAvailable('peer-check', 'owner check', `not enforced on ${process.platform}`)],
      notes: [],
    };
  let createPeerCheck;
  try {
    createPeerCheck = (await coreFn(ctx.root, 'createPeerCheck', 'ray/peerCheck')).fn;
  } catch (e) {
    return { figures: [notAvailable('peer-check', 'owner check', reasonOf(e))], notes: [] };
  }
  const target = createHttpServer((_req, res) => res.end('ok'));
  const checkMs = [];
  const plain = relay(await listen(target), undefined, checkMs);
  const checked = relay(target.address().port, createPeerCheck({ logger: silent, env: {} }), checkMs);
  const modes = [
    { name: 'no-check', port: await listen(plain), samples: [], cpuUs: 0 },
    { name: 'check', port: await listen(checked), samples: [], cpuUs: 0 },
  ];
  try {
    for (let r = -1; r < ROUNDS; r++)
      for (const m of r % 2 ? modes : [...modes].reverse()) {
        const c0 = process.cpuUsage();
        for (let i = 0; i < (r < 0 ? 20 : PER_ROUND); i++) {
          const ms = await getOnce(m.port);
          if (r >= 0) m.samples.push(ms);
        }
        const c = process.cpuUsage(c0);
        if (r >= 0) m.cpuUs += c.user + c.system;
      }
    checkMs.splice(0, 20); // the warm-up round's checks
    const [base, withCheck] = modes.map((m) => summary(m.samples));
    const table = readFileSync('/proc/net/tcp', 'latin1');
    const figures = [];
    for (const pct of ['p50', 'p99']) {
      figures.push(
        figure(`newconn.no-check.${pct}`, `new connection + request, no check, ${pct}`, base[pct], 'ms'),
      );
      figures.push(
        figure(
          `newconn.check.${pct}`,
          `new connection + request, with the owner check, ${pct}`,
          withCheck[pct],
          'ms',
          {
            ratios: { 'vs no check': ratio(withCheck[pct], base[pct]) },
          },
        ),
      );
    }
    const c = summary(checkMs);
    figures.push(figure('check.p50', 'the check itself (read + find the row), p50', c.p50, 'ms'));
    figures.push(figure('check.p99', 'the check itself, p99', c.p99, 'ms'));
    const n = ROUNDS * PER_ROUND;
    const cpuPer = (m) => m.cpuUs / 1000 / n;
    figures.push(
      figure(
        'cpu.added',
        'CPU added per new connection (whole process, user + system)',
        cpuPer(modes[1]) - cpuPer(modes[0]),
        'ms',
        {
          detail: { noCheckCpuMsPerConnection: cpuPer(modes[0]), checkCpuMsPerConnection: cpuPer(modes[1]) },
        },
      ),
    );
    return {
      figures,
      notes: [
        `${ROUNDS} rounds of ${PER_ROUND} sequential requests per mode, each on a new connection, order alternating; client, relays and target in one process`,
        `/proc/net/tcp here: ${table.split('\n').length - 2} rows, ${table.length} bytes (one read per accept when the client is an IPv4 socket; tcp6 is read only when tcp has no row)`,
      ],
    };
  } finally {
    for (const s of [plain, checked, target]) s.close();
  }
}
