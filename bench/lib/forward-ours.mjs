// Child process: runs our forwarder (@ray-connect/core dist) from 127.0.0.1:<free port> to pod RC_BENCH_POD port
// RC_BENCH_PORT in RC_BENCH_NS, with the kubeconfig RC_BENCH_KUBECONFIG_FILE. Prints {"port":N,"how":"..."} when
// listening, or {"error":"..."} and exits 1. Exits when stdin closes or on SIGTERM.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const say = (o) => process.stdout.write(JSON.stringify(o) + '\n');

async function main() {
  const dist = join(process.env.RC_BENCH_ROOT, 'packages', 'core', 'dist', 'index.js');
  if (!existsSync(dist)) throw new Error('@ray-connect/core is not built');
  const core = await import(pathToFileURL(dist).href);
  const names = ['startPortForward', 'createPortForward', 'portForward', 'PortForwarder'];
  const found = names.find((n) => n in core);
  if (!found) throw new Error(`@ray-connect/core exports no port-forward yet (looked for ${names.join(', ')})`);
  throw new Error(`@ray-connect/core exports ${found}, but the bench does not drive it yet`);
}

main().catch((e) => {
  say({ error: String(e?.message ?? e).split('\n')[0] });
  process.exit(1);
});
process.stdin.on('close', () => process.exit(0));
process.stdin.resume();
process.on('SIGTERM', () => process.exit(0));
