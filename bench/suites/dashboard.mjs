// The Ray dashboard through the Jupyter server (<base_url>ray-connect/dashboard/..., the server adds the Ray token)
// vs through the local forward (the connection's dashboardUrl with the token sent by the client): time to first
// byte and time of a 10 MiB job log download (api/v0/logs/file, what the dashboard's log view reads), from the real
// token-mode Ray head of the sandbox. A real JupyterLab server (the tagged venv) with its real agent, signed in with
// the bench's kubeconfig. Rounds interleave the two modes (order alternating), one untimed download each first;
// the figures are medians of per-round ratios, with their spread.
import { request } from 'node:http';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { figure, notAvailable, reasonOf } from '../lib/figures.mjs';
import { cpuMs, freePort } from '../lib/proc.mjs';
import { median, now } from '../lib/stats.mjs';

export const title = 'Dashboard through the Jupyter server vs the local forward: 10 MiB log download';
export const needsSandbox = true;

const ROUNDS = 9;
const LOG_BYTES = 10 * 1024 * 1024;
const RAY = 'raycluster-token';
const UA = { 'User-Agent': 'ray-connect-bench' }; // Ray answers 405 to POSTs from browsers

/** GET url: time to the response headers, to the first body byte, and to the end; bytes read. */
function download(url, headers, timeoutMs = 120_000) {
  return new Promise((resolve, reject) => {
    const t0 = now();
    const req = request(url, { headers: { ...UA, ...headers }, agent: false }, (res) => {
      const tHeaders = now();
      let tFirst;
      let bytes = 0;
      res.on('data', (c) => {
        tFirst ??= now();
        bytes += c.length;
      });
      res.on('end', () =>
        resolve({
          status: res.statusCode,
          headersMs: tHeaders - t0,
          ttfbMs: (tFirst ?? now()) - t0,
          totalMs: now() - t0,
          bytes,
        }),
      );
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () =>
      req.destroy(new Error(`no answer from ${new URL(url).pathname} in ${timeoutMs} ms`)),
    );
    req.on('error', reject);
    req.end();
  });
}

/** JSON over node:http. Not fetch(): Ray answers 405 to POSTs that look like a browser's (any `Sec-Fetch-*`
 * header, which Node's fetch sends). */
function json(url, { method = 'GET', headers = {}, body } = {}) {
  const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        headers: {
          ...UA,
          ...headers,
          ...(data && { 'Content-Type': 'application/json', 'Content-Length': data.length }),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (text += c));
        res.on('end', () => {
          if (res.statusCode >= 400)
            reject(
              new Error(`${method} ${new URL(url).pathname}: HTTP ${res.statusCode} ${text.slice(0, 200)}`),
            );
          else resolve(text ? JSON.parse(text) : undefined);
        });
      },
    );
    req.setTimeout(120_000, () => req.destroy(new Error(`${method} ${new URL(url).pathname}: no answer`)));
    req.on('error', reject);
    req.end(data);
  });
}

const spread = (xs) => `${Math.min(...xs).toFixed(2)}-${Math.max(...xs).toFixed(2)}`;

export async function run(ctx) {
  const figures = [];
  const notes = [];
  const { installExtension, launchJupyterLab } = await import(
    pathToFileURL(join(ctx.root, 'scripts', 'start-jupyterlab.mjs')).href
  );
  installExtension((line) => ctx.log(`dashboard: ${line}`));
  const work = join(ctx.tmp, 'dashboard');
  const lab = await launchJupyterLab({
    port: await freePort(),
    rootDir: join(work, 'root'),
    kubeconfig: ctx.kubeconfig,
    env: {
      RAY_CONNECT_CONFIG_DIR: join(work, 'ray-connect'),
      JUPYTER_CONFIG_DIR: join(work, 'config'),
      JUPYTER_DATA_DIR: join(work, 'data'),
      JUPYTER_RUNTIME_DIR: join(work, 'runtime'),
    },
    logFile: join(work, 'jupyterlab.log'),
  });
  const jupyter = { Authorization: `token ${lab.token}` };
  const call = async (method, ...args) =>
    (
      await json(`${lab.baseUrl}/ray-connect/call/${method}`, {
        method: 'POST',
        headers: jupyter,
        body: { args },
      })
    ).result;
  let ref;
  try {
    const clusters = await call('listClusters');
    const cluster = clusters.find((c) => c.current) ?? clusters[0];
    if (!cluster) throw new Error('the agent sees no cluster in the bench kubeconfig');
    ref = { clusterId: cluster.id, namespace: ctx.sandbox?.namespace ?? 'ray-demo', name: RAY };
    const conn = await call('connect', ref, {});
    if (!conn.dashboardUrl) throw new Error(`connect gave no dashboard URL (state ${conn.state})`);
    const ray = { Authorization: `Bearer ${(await call('rayToken', ref)).token}` };
    const forward = conn.dashboardUrl;
    const proxied = `${lab.baseUrl}/ray-connect/dashboard/${encodeURIComponent(ref.clusterId)}/${ref.namespace}/${ref.name}`;

    // A job whose driver log is 10 MiB (1 KiB lines), submitted through the forward; its log is what we download.
    const line = 'x'.repeat(1023);
    const { submission_id: id } = await json(`${forward}/api/jobs/`, {
      method: 'POST',
      headers: ray,
      body: {
        entrypoint: `python -c "import sys\nfor _ in range(${LOG_BYTES / 1024}): sys.stdout.write('${line}\\n')"`,
      },
    });
    let job;
    for (
      const deadline = Date.now() + 120_000;
      Date.now() < deadline;
      await new Promise((r) => setTimeout(r, 500))
    ) {
      job = await json(`${forward}/api/jobs/${id}`, { headers: ray });
      if (['SUCCEEDED', 'FAILED', 'STOPPED'].includes(job.status)) break;
    }
    if (job?.status !== 'SUCCEEDED')
      throw new Error(`the 10 MiB log job ended ${job?.status ?? 'never'}: ${job?.message ?? ''}`);
    const path = `/api/v0/logs/file?node_id=${job.driver_node_id}&filename=job-driver-${id}.log&lines=-1`;

    let jupyterCpu = 0;
    const modes = {
      jupyter: async () => {
        const c0 = cpuMs(lab.child.pid);
        const r = await download(proxied + path, jupyter);
        jupyterCpu += cpuMs(lab.child.pid) - c0;
        return r;
      },
      forward: () => download(forward + path, ray),
    };
    for (const m of Object.values(modes)) await m(); // untimed: caches, connections, JIT
    jupyterCpu = 0;
    const rounds = [];
    for (let i = 0; i < ROUNDS; i++) {
      const order = i % 2 ? ['forward', 'jupyter'] : ['jupyter', 'forward'];
      const r = {};
      for (const name of order) {
        r[name] = await modes[name]();
        if (r[name].status !== 200 || r[name].bytes < LOG_BYTES)
          throw new Error(
            `${name}: HTTP ${r[name].status}, ${r[name].bytes} bytes (expected >= ${LOG_BYTES})`,
          );
      }
      rounds.push(r);
    }
    const pick = (name, k) => rounds.map((r) => r[name][k]);
    const ratios = (k) => rounds.map((r) => r.jupyter[k] / r.forward[k]);
    const total = ratios('totalMs');
    const ttfb = ratios('ttfbMs');
    const mibs = (name) =>
      median(pick(name, 'totalMs').map((ms, i) => rounds[i][name].bytes / 1048576 / (ms / 1000)));
    const bytes = rounds[0].jupyter.bytes;
    figures.push(
      figure(
        'dashboard.log10m.time',
        `10 MiB log download through the Jupyter server, time vs the local forward (median of ${ROUNDS} per-round ratios)`,
        median(total),
        'x',
        {
          ratios: { vsForward: median(total) },
          target: { op: '<=', value: 1.3, on: 'vsForward', text: '<= 1.3x the local forward' },
          ...(median(total) > 1.3 && {
            missedBy: `${(median(total) - 1.3).toFixed(2)}x over`,
            why: `the relay itself cost the Jupyter server ${Math.round(jupyterCpu / ROUNDS)} ms of CPU per 10 MiB download; the rest is one more process on the path waiting for a CPU (load average ${loadavg()[0].toFixed(1)} at the end; per-round ratios ${spread(total)})`,
          }),
          detail: {
            perRound: total,
            jupyterMs: pick('jupyter', 'totalMs'),
            forwardMs: pick('forward', 'totalMs'),
            jupyterCpuMsPerDownload: jupyterCpu / ROUNDS,
            bytes,
          },
          note: `ratio per round ${spread(total)}; the Jupyter server's CPU ${Math.round(jupyterCpu / ROUNDS)} ms per download (${((100 * jupyterCpu) / ROUNDS / median(pick('jupyter', 'totalMs'))).toFixed(0)}% of a core while it ran); through Jupyter ${Math.round(median(pick('jupyter', 'totalMs')))} ms (${mibs('jupyter').toFixed(0)} MiB/s), forward ${Math.round(median(pick('forward', 'totalMs')))} ms (${mibs('forward').toFixed(0)} MiB/s), ${bytes} bytes each`,
        },
      ),
    );
    figures.push(
      figure(
        'dashboard.log10m.ttfb',
        `time to first byte of that download through the Jupyter server vs the local forward (median of ${ROUNDS} per-round ratios)`,
        median(ttfb),
        'x',
        {
          ratios: { vsForward: median(ttfb) },
          target: { op: '<=', value: 1.3, on: 'vsForward', text: '<= 1.3x the local forward' },
          detail: {
            perRound: ttfb,
            jupyterMs: pick('jupyter', 'ttfbMs'),
            forwardMs: pick('forward', 'ttfbMs'),
          },
          note: `ratio per round ${spread(ttfb)}; through Jupyter ${median(pick('jupyter', 'ttfbMs')).toFixed(1)} ms, forward ${median(pick('forward', 'ttfbMs')).toFixed(1)} ms (Ray reads the file and starts sending; the Jupyter hop adds one local HTTP request and the auth check)`,
        },
      ),
    );
    notes.push(
      `GET ${path.replace(/node_id=[^&]+/, 'node_id=<driver>').replace(/job-driver-[^.]+/, 'job-driver-<id>')} on the sandbox's token head; new TCP connection per download in both modes; Jupyter on ${lab.baseUrl}`,
    );
  } catch (e) {
    figures.push(
      notAvailable('dashboard.log10m.time', '10 MiB log download through the Jupyter server', reasonOf(e)),
    );
  } finally {
    if (ref) await call('disconnect', ref).catch(() => undefined);
    lab.child.kill('SIGTERM');
    await new Promise((r) => (lab.child.exitCode !== null ? r() : lab.child.once('exit', r)));
  }
  return { figures, notes };
}
