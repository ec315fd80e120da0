// A TCP <-> unix-socket relay for a browser in a network namespace of its own (tests/netns.ts).
//   node relay.mjs inside <dir> <port>...   (in the namespace) listens on 127.0.0.1:<port>, each connection goes to
//                                           <dir>/<port>.sock; touches <dir>/inside.ready when all listen
// The other half (unix socket -> the host's 127.0.0.1:<port>) runs in the test process. Only the listed ports
// cross: the rest of the host's loopback stays unreachable from the namespace.
import { writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';

const [mode, dir, ...ports] = process.argv.slice(2);
if (mode !== 'inside' || !dir || !ports.length) {
  process.stderr.write('usage: node relay.mjs inside <dir> <port>...\n');
  process.exit(2);
}
let listening = 0;
for (const port of ports) {
  createServer((client) => {
    const upstream = connect(join(dir, `${port}.sock`));
    client.pipe(upstream).pipe(client);
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close);
    upstream.on('error', close);
  }).listen(Number(port), '127.0.0.1', () => {
    if (++listening === ports.length) writeFileSync(join(dir, 'inside.ready'), '');
  });
}
