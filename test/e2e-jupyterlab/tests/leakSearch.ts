// The leak search of the tier (same rules as test/e2e-vscode/suite/lib.cjs `leakSearch`): every file under the
// given dirs is read as bytes and searched for every secret, and for JWTs their signature alone. Hits are reported as
// "<file> @<offset> (secret #n, whole|signature)", never the value. Files over the size bound are skipped and named.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const LEAK_MAX_FILE_BYTES = 8 * 1024 * 1024;

export interface LeakResult {
  hits: string[];
  skipped: string[];
  files: number;
  bytes: number;
  needles: number;
}

export function leakSearch(dirs: string[], secrets: Iterable<string>): LeakResult {
  const needles: { id: string; buf: Buffer }[] = [];
  let n = 0;
  for (const s of secrets) {
    n++;
    needles.push({ id: `secret #${n}, whole`, buf: Buffer.from(s, 'utf8') });
    const parts = s.split('.');
    if (parts.length === 3 && parts[2]!.length >= 16)
      needles.push({ id: `secret #${n}, signature`, buf: Buffer.from(parts[2]!, 'utf8') });
  }
  const result: LeakResult = { hits: [], skipped: [], files: 0, bytes: 0, needles: needles.length };
  const walk = (d: string) => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        let buf: Buffer;
        try {
          const size = statSync(p).size;
          if (size > LEAK_MAX_FILE_BYTES) {
            result.skipped.push(`${p} (${size} bytes)`);
            continue;
          }
          buf = readFileSync(p);
        } catch {
          continue; // removed while walking (kernel runtime files, temp files)
        }
        result.files++;
        result.bytes += buf.length;
        for (const nd of needles) {
          const at = buf.indexOf(nd.buf);
          if (at >= 0) result.hits.push(`${p} @${at} (${nd.id})`);
        }
      }
    }
  };
  for (const d of dirs) walk(d);
  return result;
}
