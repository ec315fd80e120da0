import { createHash } from 'node:crypto';
import { chmod, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { connect as netConnect, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { type RayConnect, RayConnectError } from '@ray-connect/core';
import type { ConnectionSummary, RayClusterRef, SessionEnv } from '@ray-connect/shared';

/**
 * How `ray-connect env` reaches a running `ray-connect connect`: connect writes a non-secret state file and listens
 * on a Unix socket, both in `<configDir>/run` (0700; socket 0600, so only this user can ask). env finds the state
 * file by cluster name, asks the socket, and prints what it answers. The token never touches the disk this way.
 */
export interface ConnectionRecord {
  ref: RayClusterRef;
  pid: number;
  socket: string;
  /** forward | direct | fronted (absent in records of older versions). */
  path?: string;
  dashboardUrl?: string;
  clientAddress?: string;
  authMode: string;
  startedAt: number;
}

const runDir = (configDir: string) => join(configDir, 'run');
const baseName = (ref: RayClusterRef) =>
  createHash('sha256').update(`${ref.clusterId}\0${ref.namespace}\0${ref.name}`).digest('hex').slice(0, 16);

/** Starts answering env requests for a connection; returns a stop function that removes socket and state file. */
export async function publishConnection(
  api: RayConnect,
  ref: RayClusterRef,
  summary: ConnectionSummary,
  configDir: string,
): Promise<() => Promise<void>> {
  const dir = runDir(configDir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const base = join(dir, baseName(ref));
  const socket = `${base}.sock`;
  const stateFile = `${base}.json`;
  await rm(socket, { force: true });
  const server: Server = createServer((conn) => {
    conn.setTimeout(10_000, () => conn.destroy());
    conn.once('data', () => {
      api
        .sessionEnv(ref)
        .then((env) => conn.end(JSON.stringify({ env }) + '\n'))
        .catch((e: unknown) =>
          conn.end(
            JSON.stringify({
              error: e instanceof RayConnectError ? e.toInfo() : { code: 'INTERNAL', message: String(e) },
            }) + '\n',
          ),
        );
    });
    conn.on('error', () => conn.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socket, () => resolve());
  });
  await chmod(socket, 0o600);
  const record: ConnectionRecord = {
    ref,
    pid: process.pid,
    socket,
    path: summary.path,
    authMode: summary.authMode,
    startedAt: Date.now(),
  };
  if (summary.dashboardUrl) record.dashboardUrl = summary.dashboardUrl;
  if (summary.clientAddress) record.clientAddress = summary.clientAddress;
  await writeFile(stateFile, JSON.stringify(record, null, 2) + '\n', { mode: 0o600 });
  return async () => {
    await new Promise<void>((r) => server.close(() => r()));
    await rm(socket, { force: true });
    await rm(stateFile, { force: true });
  };
}

/** Running connections whose process is alive, optionally filtered. */
export async function findConnections(
  configDir: string,
  filter: { name?: string; namespace?: string; clusterId?: string },
): Promise<ConnectionRecord[]> {
  let files: string[];
  try {
    files = (await readdir(runDir(configDir))).filter((f) => f.endsWith('.json'));
  } catch {
    return [];
  }
  const records: ConnectionRecord[] = [];
  for (const f of files) {
    try {
      const r = JSON.parse(await readFile(join(runDir(configDir), f), 'utf8')) as ConnectionRecord;
      if (!alive(r.pid)) continue;
      if (filter.name && r.ref.name !== filter.name) continue;
      if (filter.namespace && r.ref.namespace !== filter.namespace) continue;
      if (
        filter.clusterId &&
        r.ref.clusterId !== filter.clusterId &&
        r.ref.clusterId !== `context:${filter.clusterId}`
      )
        continue;
      records.push(r);
    } catch {
      // a half-written or foreign file: skip
    }
  }
  return records;
}

/** Asks a running connect for its session env. */
export function requestSessionEnv(record: ConnectionRecord): Promise<SessionEnv> {
  return new Promise((resolve, reject) => {
    const conn = netConnect(record.socket);
    const chunks: Buffer[] = [];
    conn.setTimeout(15_000, () => conn.destroy(new Error('no answer')));
    conn.on('connect', () => conn.write('env\n'));
    conn.on('data', (c: Buffer) => chunks.push(c));
    conn.on('end', () => {
      try {
        const answer = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
          env?: SessionEnv;
          error?: { code: never; message: string; fix?: string };
        };
        if (answer.env) resolve(answer.env);
        else
          reject(
            new RayConnectError(
              answer.error?.code ?? 'INTERNAL',
              answer.error?.message ?? 'no answer',
              answer.error?.fix ? { fix: answer.error.fix } : {},
            ),
          );
      } catch (e) {
        reject(e);
      }
    });
    conn.on('error', (e) =>
      reject(
        new RayConnectError(
          'AGENT_UNAVAILABLE',
          `The ray-connect connect process for ${record.ref.name} does not answer`,
          { fix: `Start it again: ray-connect connect ${record.ref.name}`, cause: e },
        ),
      ),
    );
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
