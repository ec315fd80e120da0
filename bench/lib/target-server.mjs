// The bulk/latency HTTP target for the port-forward suites. Runs as its own process (so the client's event loop
// does not compete with it). Usage: node target-server.mjs [port]. Prints one JSON line {"port":N} when ready.
//   GET /small       -> 2 bytes ("ok")
//   GET /bulk?mb=N   -> N MiB of bytes (default 100), Content-Length set, written with backpressure
// Exits when stdin closes (its parent died) or on SIGTERM.
import { createServer } from 'node:http';

const CHUNK = Buffer.alloc(1024 * 1024, 0x61);

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  if (url.pathname === '/small') {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 2 });
    res.end('ok');
    return;
  }
  if (url.pathname === '/bulk') {
    const mb = Math.min(1024, Math.max(1, Number(url.searchParams.get('mb') ?? 100)));
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': mb * CHUNK.length });
    let left = mb;
    const pump = () => {
      while (left > 0) {
        left -= 1;
        if (left === 0) {
          res.end(CHUNK);
          return;
        }
        if (!res.write(CHUNK)) {
          res.once('drain', pump);
          return;
        }
      }
    };
    pump();
    return;
  }
  res.writeHead(404).end();
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n');
});
process.stdin.on('close', () => process.exit(0));
process.stdin.resume();
process.on('SIGTERM', () => process.exit(0));
