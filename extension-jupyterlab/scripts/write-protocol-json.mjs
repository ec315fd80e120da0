// Writes ray_connect_jupyterlab/protocol.json, the agent protocol the Python server extension reads
// (ray_connect_jupyterlab/protocol.py), from the TypeScript definitions (shared/src/protocol.ts, built to
// shared/dist). The file is committed; shared/src/protocolJson.test.ts fails when it is stale.
//   node scripts/write-protocol-json.mjs
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { agentProtocolJson } from '@ray-connect/shared';

const target = join(dirname(fileURLToPath(import.meta.url)), '..', 'ray_connect_jupyterlab', 'protocol.json');
const text = agentProtocolJson();
let old = '';
try {
  old = readFileSync(target, 'utf8');
} catch {
  // first write
}
if (old !== text) {
  writeFileSync(target, text);
  process.stderr.write(`[ray-connect] wrote ${target}\n`);
}
