// JupyterLab: frontend bundle size, agent start time and RSS, panel render time with 200 RayClusters.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { callAgent, findAgent, startAgent } from '../lib/agent.mjs';
import { figure, notAvailable, notMeasured, reasonOf } from '../lib/figures.mjs';
import { rssMiB, stopChild } from '../lib/proc.mjs';
import { kubeconfigMaterial, standInKubeClient } from '../lib/core.mjs';
import { measurePanelRender } from '../lib/jupyterHost.mjs';
import { ensureNamespace } from '../lib/kwokTarget.mjs';
import { createRayClusters, deleteRayClusters, kubeconfigWithNamespace } from '../lib/rayclusters.mjs';
import { median } from '../lib/stats.mjs';

export const title = 'JupyterLab: frontend bundle, agent start and memory, panel render';
export const needsSandbox = false;

const STARTS = 5;
const PANEL_N = 200;
const PANEL_NS = 'rc-bench-panel';

export async function run(ctx) {
  const figures = [];
  const notes = [];

  // Frontend bundle: the labextension's static assets (what the browser may download).
  const staticDir = join(
    ctx.root,
    'extension-jupyterlab',
    'ray_connect_jupyterlab',
    'labextension',
    'static',
  );
  if (existsSync(staticDir)) {
    const files = readdirSync(staticDir).filter((f) => f.endsWith('.js'));
    let bytes = 0;
    let gz = 0;
    for (const f of files) {
      const b = readFileSync(join(staticDir, f));
      bytes += b.length;
      gz += gzipSync(b).length;
    }
    figures.push(
      figure('frontend.size', 'frontend bundle (labextension/static/*.js)', bytes / 1024, 'KiB', {
        detail: { files: files.length, bytes, gzipBytes: gz },
        note: `${files.length} file(s), ${Math.round(gz / 1024)} KiB gzipped; JupyterLab shares @jupyterlab/* and @lumino/* so they are not in it`,
      }),
    );
  } else {
    figures.push(
      notAvailable(
        'frontend.size',
        'frontend bundle size',
        'extension-jupyterlab labextension not built (ray_connect_jupyterlab/labextension/static missing)',
      ),
    );
  }

  // Agent: start time (spawn -> ready line) and RSS, median of STARTS starts.
  const agentJs = findAgent(ctx.root);
  if (!agentJs) {
    figures.push(notAvailable('agent.start', 'agent start time', 'no agent built yet (ray-connect serve)'));
  } else {
    const starts = [];
    const rssReady = [];
    let lastErr;
    for (let i = 0; i < STARTS; i++) {
      let agent;
      try {
        agent = await startAgent(ctx, { agentJs, kubeconfig: ctx.kubeconfig });
        starts.push(agent.startMs);
        await new Promise((r) => setTimeout(r, 200));
        rssReady.push(rssMiB(agent.child.pid).rss);
        if (i === STARTS - 1) await measureWorking(ctx, agent, figures, notes);
      } catch (e) {
        lastErr = reasonOf(e);
      } finally {
        if (agent) await stopChild(agent.child);
      }
    }
    if (starts.length) {
      figures.push(
        figure(
          'agent.start',
          `agent start (spawn to ready line, median of ${starts.length})`,
          median(starts),
          'ms',
          { detail: { runs: starts } },
        ),
      );
      figures.push(
        figure('agent.rss.ready', 'agent RSS when ready (idle)', median(rssReady), 'MiB', {
          target: { op: '<', value: 80, text: '< 80 MB' },
          ...(median(rssReady) >= 80
            ? {
                missedBy: `${Math.round(median(rssReady) - 80)} MiB over`,
                why: 'Node itself is ~40 MiB; the rest is the bundled core at load',
              }
            : {}),
        }),
      );
      notes.push(`agent: ${agentJs.replace(ctx.root + '/', '')} on node ${process.version}`);
      if (!agentJs.includes('ray_connect_jupyterlab'))
        notes.push(
          'the JupyterLab package has no agent bundle in ray_connect_jupyterlab/agent/, so the CLI bundle was measured; the panel figure runs it through RAY_CONNECT_AGENT_COMMAND',
        );
    } else {
      figures.push(notAvailable('agent.start', 'agent start time', lastErr ?? 'did not start'));
    }
  }

  // Panel render with 200 RayClusters in a real JupyterLab + Chromium (bench/lib/jupyterHost.mjs).
  if (!ctx.kubeconfig) {
    figures.push(
      notMeasured('panel.render200', `panel render time with ${PANEL_N} RayClusters`, 'needs the sandbox'),
    );
  } else {
    const admin = standInKubeClient(await kubeconfigMaterial(ctx.kubectl, ctx.kubeconfig));
    try {
      await ensureNamespace(ctx, PANEL_NS);
      const jobs = Array.from({ length: PANEL_N }, (_, i) => [
        PANEL_NS,
        `panel-rc-${String(i).padStart(3, '0')}`,
      ]);
      await createRayClusters(admin, jobs, { tag: 'panel' });
      const kubeconfig = await kubeconfigWithNamespace(
        ctx.kubectl,
        ctx.kubeconfig,
        PANEL_NS,
        join(ctx.tmp, 'panel.kubeconfig'),
      );
      const m = await measurePanelRender(ctx, { kubeconfig, expect: PANEL_N });
      figures.push(
        figure(
          'panel.render200',
          `panel: open to ${m.rows} RayCluster rows in the DOM (real JupyterLab + Chromium)`,
          m.openToRowsMs,
          'ms',
          {
            detail: m,
            note: 'from the click on the sidebar tab to every row rendered, expanding collapsed nodes like a user; the agent may still be loading the list at the click (it starts with the page)',
          },
        ),
      );
    } catch (e) {
      figures.push(
        notMeasured('panel.render200', `panel render time with ${PANEL_N} RayClusters`, reasonOf(e)),
      );
    } finally {
      await deleteRayClusters(admin, PANEL_NS, 'panel').catch(() => undefined);
    }
  }
  return { figures, notes };
}

/** RSS after real work: listClusters, then listRayClusters on the first cluster (signed in via kubeconfig). */
async function measureWorking(ctx, agent, figures, notes) {
  if (!ctx.kubeconfig) return;
  try {
    const clusters = await callAgent(agent, 'listClusters');
    const c = clusters.find((x) => x.current) ?? clusters[0];
    if (!c) throw new Error('the agent sees no cluster in the kubeconfig');
    const idle = rssMiB(agent.child.pid).rss;
    await callAgent(agent, 'listRayClusters', [c.id]);
    await callAgent(agent, 'listRayClusters', [c.id]);
    await new Promise((r) => setTimeout(r, 2000));
    const m = rssMiB(agent.child.pid);
    figures.push(
      figure('agent.rss.working', 'agent RSS after listClusters + listRayClusters', m.rss, 'MiB', {
        target: { op: '<', value: 80, text: '< 80 MB' },
        detail: { peakMiB: m.hwm },
        note: `peak ${Math.round(m.hwm)} MiB; ${Math.round(idle)} MiB before the calls; measured 2 s after the second listing`,
        ...(m.rss >= 80
          ? {
              missedBy: `${Math.round(m.rss - 80)} MiB over`,
              why: `the first real calls grow it from ${Math.round(idle)} to ${Math.round(m.rss)} MiB: TLS to the apiserver, the kubeconfig and credential plumbing, and the parsed RayCluster/pod lists, with V8 keeping freed heap until it needs it (Node ${process.version} defaults)`,
            }
          : {}),
      }),
    );
  } catch (e) {
    notes.push(`agent RSS after work not measured: ${reasonOf(e)}`);
  }
}
