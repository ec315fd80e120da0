// Bundles the extension into two CommonJS files (`vscode` is provided by the extension host):
//   dist/extension.js  the entry VS Code loads to activate: views, commands, status bar, terminal env (small)
//   dist/core.js       the core and its protocol libraries (undici, openid-client, ws, yaml...), required by the
//                      entry only after activate() returned (src/api/loadCore.ts)
// The build fails when the entry pulls in the core or one of those libraries (activation must stay cheap).
// `--watch` rebuilds on change.
import { build, context } from 'esbuild';
import { statSync } from 'node:fs';

const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  minify: true,
  sourcemap: 'linked',
  sourcesContent: false,
  legalComments: 'external',
  logLevel: 'warning',
  metafile: true,
};

const entry = {
  ...common,
  entryPoints: ['src/extension.ts'],
  outfile: 'dist/extension.js',
  external: ['vscode', './core.js'],
};

const core = {
  ...common,
  entryPoints: ['src/core.ts'],
  outfile: 'dist/core.js',
  external: ['vscode'],
  // ESM-only dependencies use import.meta.url; give CJS an equivalent.
  define: { 'import.meta.url': 'importMetaUrl' },
  banner: { js: "const importMetaUrl = require('url').pathToFileURL(__filename).href;" },
};

/** Inputs that must never be in the entry bundle: they belong to dist/core.js. */
const HEAVY =
  /(^|\/)(packages\/core\/|node_modules\/(\.pnpm\/)?(undici|openid-client|oauth4webapi|jose|ws|yaml|@napi-rs)[@/])/;

function checkEntry(result) {
  const heavy = Object.keys(result.metafile.inputs).filter((p) => HEAVY.test(p));
  if (heavy.length)
    throw new Error(
      `dist/extension.js must not bundle the core (load it through src/api/loadCore.ts): ${heavy.slice(0, 5).join(', ')}`,
    );
}

if (process.argv.includes('--watch')) {
  for (const options of [entry, core]) await (await context(options)).watch();
} else {
  const [e] = await Promise.all([build(entry), build(core)]);
  checkEntry(e);
  for (const f of ['dist/extension.js', 'dist/core.js'])
    process.stderr.write(`${f}: ${(statSync(f).size / 1024).toFixed(0)} KiB\n`);
}
