// Bundles the extension (and the core it runs in-process) into one CommonJS file: dist/extension.js.
// `vscode` is provided by the extension host. `--watch` rebuilds on change.
import { build, context } from 'esbuild';
import { statSync } from 'node:fs';

const options = {
  entryPoints: ['src/extension.ts'],
  outfile: 'dist/extension.js',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['vscode'],
  minify: true,
  sourcemap: 'linked',
  sourcesContent: false,
  legalComments: 'external',
  logLevel: 'warning',
  // ESM-only dependencies (client-node) use import.meta.url; give CJS an equivalent.
  define: { 'import.meta.url': 'importMetaUrl' },
  banner: { js: "const importMetaUrl = require('url').pathToFileURL(__filename).href;" },
};

if (process.argv.includes('--watch')) {
  const ctx = await context(options);
  await ctx.watch();
} else {
  await build(options);
  process.stderr.write(`dist/extension.js: ${(statSync('dist/extension.js').size / 1024).toFixed(0)} KiB\n`);
}
