// Loaded by VS Code's extension host as extensionTestsPath (see bench/lib/vscodeHost.mjs). Measures, inside the
// real extension host: activation (ext.activate(): loading the bundle + activate()), time until the extension's
// `ready`, and the extension host's RSS before, after activation and connected to Ray clusters. Writes JSON to
// $RC_BENCH_VSCODE_OUT. Never fails the run: errors are written to the JSON.
const vscode = require('vscode');
const fs = require('node:fs');

// RC_BENCH_VSCODE_EXTENSION_ID: another extension (the no-op baseline, bench/vscode/noop-extension).
const EXTENSION_ID = process.env.RC_BENCH_VSCODE_EXTENSION_ID || 'ray-connect.ray-connect';
const MiB = 1024 * 1024;

exports.run = async function run() {
  const out = process.env.RC_BENCH_VSCODE_OUT;
  const res = { date: new Date().toISOString(), pid: process.pid };
  try {
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    if (!ext) throw new Error(`extension ${EXTENSION_ID} is not loaded`);
    res.wasActive = ext.isActive;
    res.rssBeforeMiB = process.memoryUsage().rss / MiB;
    const profiler = process.env.RC_BENCH_VSCODE_PROFILE
      ? await startProfiler().catch(() => undefined)
      : undefined;
    // Loading the bundle (what VS Code does first when it activates), timed apart from activate() itself; the
    // extension host's require then finds it cached. RC_BENCH_VSCODE_NO_SPLIT=1 measures both in one go.
    const t0 = performance.now();
    if (!process.env.RC_BENCH_VSCODE_NO_SPLIT && !ext.isActive) {
      require(require('node:path').join(ext.extensionPath, ext.packageJSON.main || 'dist/extension.js'));
      res.loadMs = performance.now() - t0;
    }
    const t1a = performance.now();
    const exports = await ext.activate();
    res.activateCallMs = performance.now() - t1a;
    res.activationMs = performance.now() - t0;
    if (profiler) res.profile = await profiler.stop(ext.extensionPath).catch((e) => ({ error: String(e) }));
    // The extension's own account (dist/extension.js): time inside activate(), loading the core afterwards.
    if (exports && exports.timings) res.timings = exports.timings;
    if (!process.env.RC_BENCH_VSCODE_EXTENSION_ID) await afterActivation(exports, res, profiler);
  } catch (e) {
    res.error = String(e && e.stack ? e.stack : e).slice(0, 2000);
  }
  fs.writeFileSync(out, JSON.stringify(res, null, 2));
};

/** Ray Connect only: time to ready, memory connected to Ray clusters. */
async function afterActivation(exports, res, profiler) {
  res.fake = exports.fake;
  const t1 = performance.now();
  await exports.ready;
  res.readyMs = performance.now() - t1;
  res.rssActiveMiB = process.memoryUsage().rss / MiB;
  const clusters = await exports.api.listClusters();
  const cluster = clusters.find((c) => c.current) ?? clusters[0];
  if (!cluster) throw new Error('the extension sees no cluster');
  res.clusterId = cluster.id;
  const names = profiler ? [] : JSON.parse(process.env.RC_BENCH_VSCODE_RAYCLUSTERS ?? '[]');
  const ns = process.env.RC_BENCH_VSCODE_NAMESPACE ?? 'ray-demo';
  res.connected = [];
  res.connectErrors = [];
  for (const name of names) {
    try {
      const t = performance.now();
      await exports.api.connect({ clusterId: cluster.id, namespace: ns, name });
      res.connected.push({ name, ms: performance.now() - t });
    } catch (e) {
      res.connectErrors.push(`${name}: ${e && e.message ? e.message : e}`);
    }
  }
  await new Promise((r) => setTimeout(r, 1000));
  res.rssConnectedMiB = process.memoryUsage().rss / MiB;
  res.heapUsedConnectedMiB = process.memoryUsage().heapUsed / MiB;
  for (const c of res.connected) {
    await exports.api
      .disconnect({ clusterId: cluster.id, namespace: ns, name: c.name })
      .catch(() => undefined);
  }
}

/** CPU profile of the activation (inspector, in this extension host): where the time went, by category. */
async function startProfiler() {
  const inspector = require('node:inspector');
  const session = new inspector.Session();
  session.connect();
  const post = (method, params) =>
    new Promise((resolve, reject) => session.post(method, params, (e, r) => (e ? reject(e) : resolve(r))));
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: 200 });
  await post('Profiler.start');
  return {
    async stop(extensionPath) {
      const { profile } = await post('Profiler.stop');
      session.disconnect();
      const byId = new Map(profile.nodes.map((n) => [n.id, n]));
      const self = new Map();
      for (let i = 0; i < profile.samples.length; i++) {
        const id = profile.samples[i];
        self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
      }
      const categories = {};
      const fns = new Map();
      const all = new Map();
      for (const [id, ms] of self) {
        const f = byId.get(id).callFrame;
        let cat;
        if (f.url === 'node:inspector') continue; // the profiler itself
        if (f.url.startsWith(extensionPath) || f.url.includes(extensionPath)) cat = 'ray-connect bundle';
        else if (['(idle)', '(program)', '(garbage collector)'].includes(f.functionName))
          cat = f.functionName;
        else if (f.url.startsWith('node:') || f.url === '') cat = 'node internals';
        else cat = 'VS Code extension host';
        categories[cat] = (categories[cat] ?? 0) + ms;
        const anyKey = `${f.functionName || '(anonymous)'} ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}`;
        all.set(anyKey, (all.get(anyKey) ?? 0) + ms);
        if (cat === 'ray-connect bundle') {
          const key = `${f.functionName || '(anonymous)'}:${f.lineNumber + 1}`;
          fns.set(key, (fns.get(key) ?? 0) + ms);
        }
      }
      const top = [...fns]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 5)
        .map(([k, ms]) => ({ fn: k, ms: Math.round(ms * 10) / 10 }));
      for (const k of Object.keys(categories)) categories[k] = Math.round(categories[k] * 10) / 10;
      const topAll = [...all]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 8)
        .map(([k, ms]) => ({ fn: k, ms: Math.round(ms * 10) / 10 }));
      return { categories, topBundleFunctions: top, topFunctions: topAll };
    },
  };
}
