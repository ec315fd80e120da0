// Child process for the lock contention test: takes the lock N times and logs enter/leave lines to a file.
// argv: <built fileLock.js URL> <lock path> <log path> <name> <rounds>
import { appendFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

const [moduleUrl, lockPath, logPath, name, rounds] = process.argv.slice(2);
const { withFileLock } = await import(moduleUrl);
for (let i = 0; i < Number(rounds); i++) {
  await withFileLock(lockPath, async () => {
    appendFileSync(logPath, `enter ${name}\n`);
    await sleep(5);
    appendFileSync(logPath, `leave ${name}\n`);
  });
}
