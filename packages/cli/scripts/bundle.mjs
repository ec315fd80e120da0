// Bundles the CLI and agent into one file, dist/ray-connect.mjs, for the JupyterLab Python package (which ships it
// and runs `node ray-connect.mjs serve`). The native @napi-rs/keyring stays external: where it cannot be loaded,
// the CLI falls back to the memory secret store and says so.
//   node scripts/bundle.mjs            (after `tsc -b`: @ray-connect/core resolves to its dist/)
import { build } from 'esbuild';
import { chmodSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outfile = join(root, 'dist', 'ray-connect.mjs');

await build({
  stdin: {
    contents:
      "import { main } from './src/main.ts';\nprocess.exitCode = await main(process.argv.slice(2));\n",
    resolveDir: root,
    sourcefile: 'ray-connect-entry.ts',
    loader: 'ts',
  },
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  outfile,
  external: ['@napi-rs/keyring'],
  // Some bundled CommonJS dependencies call require() for Node built-ins.
  banner: {
    js: "#!/usr/bin/env node\nimport { createRequire as __rcRequire } from 'node:module';\nconst require = __rcRequire(import.meta.url);",
  },
  minify: true,
  legalComments: 'external',
  logLevel: 'warning',
});
chmodSync(outfile, 0o755);
process.stdout.write(`bundled ${outfile} (${(statSync(outfile).size / 1024 / 1024).toFixed(1)} MB)\n`);
