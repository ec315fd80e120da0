// `pnpm start`: install, build, start the sandbox (or use your own cluster), then open the editors.
//   pnpm start                      sandbox + JupyterLab + VS Code (code-server)
//   pnpm start --kubeconfig [path]  your own cluster: $KUBECONFIG or the given file instead of the sandbox
//   pnpm start --no-editors         only the sandbox
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ensureInstalled, log, pnpm, root, run } from './lib.mjs';

async function main() {
  const args = process.argv.slice(2);
  const own = args.indexOf('--kubeconfig');
  await ensureInstalled();
  log('building');
  if ((await pnpm(['-r', '--workspace-concurrency=1', 'run', 'build'])) !== 0) return 1;
  let kubeconfig;
  if (own >= 0) {
    const next = args[own + 1];
    kubeconfig = next && !next.startsWith('--') ? next : process.env.KUBECONFIG;
    if (!kubeconfig) {
      log('--kubeconfig needs a path, or KUBECONFIG set');
      return 2;
    }
    log(`using your cluster(s) from ${kubeconfig}`);
  } else {
    if ((await run(process.execPath, ['test/sandbox/sandbox.mjs', 'up'])) !== 0) return 1;
    await run(process.execPath, ['test/sandbox/sandbox.mjs', 'env']);
  }
  if (args.includes('--no-editors')) return 0;
  for (const editor of ['jupyterlab', 'vscode']) {
    const script = join(root, 'scripts', `start-${editor}.mjs`);
    if (!existsSync(script)) continue;
    const { start } = await import(pathToFileURL(script).href);
    await start({ kubeconfig, log });
  }
  log('running; Ctrl-C stops the editors (the sandbox keeps running: `pnpm sandbox down` stops it)');
  return undefined;
}

const code = await main();
if (code !== undefined) process.exitCode = code;
