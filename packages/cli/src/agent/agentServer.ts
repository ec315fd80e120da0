import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isRayConnectError } from '@ray-connect/core';
import {
  AGENT_METHODS,
  type AgentMethod,
  type ErrorInfo,
  httpStatusFor,
  MAX_BODY_BYTES,
  type RayConnectApi,
} from '@ray-connect/shared';

export interface AgentServerOptions {
  api: RayConnectApi;
  /** The per-start secret every request must present as `Authorization: Bearer <secret>`. */
  secret: string;
  /** Interval of SSE keep-alive comments (default 15 s). */
  keepAliveMs?: number;
}

export interface AgentServer {
  readonly server: Server;
  listen(port: number): Promise<number>;
  close(): Promise<void>;
}

/**
 * The agent's HTTP API (shared/src/protocol.ts) on 127.0.0.1: POST /v1/call/<method>, GET /v1/events (SSE),
 * GET /v1/version. Requests with an Origin header: 403 (browsers never talk to the agent directly). Without the
 * secret: 401. Bodies over MAX_BODY_BYTES: 413. Unknown method or path: 404.
 */
export function createAgentServer(options: AgentServerOptions): AgentServer {
  const { api } = options;
  const expected = digest(`Bearer ${options.secret}`);
  const streams = new Set<ServerResponse>();

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => sendError(res, toInfo(e)));
  });
  server.headersTimeout = 30_000;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.setHeader('cache-control', 'no-store');
    if (req.headers.origin !== undefined)
      return sendError(
        res,
        { code: 'ACCESS_DENIED', message: 'The agent does not answer browsers (Origin header present)' },
        403,
      );
    if (!authorized(req.headers.authorization))
      return sendError(res, { code: 'SIGNED_OUT', message: 'Missing or wrong agent secret' }, 401);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === '/v1/version') {
      if (req.method !== 'GET') return sendError(res, { code: 'BAD_REQUEST', message: 'Use GET' }, 405);
      return sendJson(res, 200, await api.version());
    }
    if (url.pathname === '/v1/events') {
      if (req.method !== 'GET') return sendError(res, { code: 'BAD_REQUEST', message: 'Use GET' }, 405);
      return events(req, res);
    }
    const m = /^\/v1\/call\/([A-Za-z]+)$/.exec(url.pathname);
    if (!m || !(AGENT_METHODS as readonly string[]).includes(m[1] ?? ''))
      return sendError(res, { code: 'BAD_REQUEST', message: `Unknown method or path ${url.pathname}` }, 404);
    if (req.method !== 'POST') return sendError(res, { code: 'BAD_REQUEST', message: 'Use POST' }, 405);
    const body = await readBody(req, res);
    if (body === undefined) return;
    let args: unknown[];
    try {
      const parsed: unknown = body.length ? JSON.parse(body.toString('utf8')) : {};
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
        throw new Error('the body is not an object');
      const given = (parsed as { args?: unknown }).args;
      args = given === undefined ? [] : (given as unknown[]);
      if (!Array.isArray(args)) throw new Error('args is not an array');
    } catch {
      return sendError(
        res,
        { code: 'BAD_REQUEST', message: 'The body must be JSON: { "args": [...] }' },
        400,
      );
    }
    const method = m[1] as AgentMethod;
    const fn = api[method] as (...a: unknown[]) => Promise<unknown>;
    const result = await fn.apply(api, args);
    sendJson(res, 200, { result: result === undefined ? null : result });
  }

  function authorized(header: string | undefined): boolean {
    if (header === undefined) return false;
    return timingSafeEqual(digest(header), expected);
  }

  function events(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-store',
      connection: 'keep-alive',
    });
    res.write(': ray-connect events\n\n');
    streams.add(res);
    const unsubscribe = api.onEvent((event) => res.write(`data: ${JSON.stringify(event)}\n\n`));
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), options.keepAliveMs ?? 15_000);
    const stop = () => {
      clearInterval(keepAlive);
      unsubscribe();
      streams.delete(res);
    };
    req.on('close', stop);
    res.on('close', stop);
  }

  return {
    server,
    listen: (port) =>
      new Promise<number>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host: '127.0.0.1', port }, () => {
          const address = server.address();
          resolve(typeof address === 'object' && address ? address.port : port);
        });
      }),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of streams) s.end();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The body, or undefined after answering 413 when it is larger than MAX_BODY_BYTES. */
async function readBody(req: IncomingMessage, res: ServerResponse): Promise<Buffer | undefined> {
  const declared = Number(req.headers['content-length'] ?? 0);
  const tooLarge = () => {
    sendError(res, { code: 'BAD_REQUEST', message: `Request body over ${MAX_BODY_BYTES} bytes` }, 413);
    req.resume();
  };
  if (declared > MAX_BODY_BYTES) {
    tooLarge();
    return undefined;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) {
      tooLarge();
      return undefined;
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

function toInfo(e: unknown): ErrorInfo {
  if (isRayConnectError(e)) return e.toInfo();
  return { code: 'INTERNAL', message: e instanceof Error ? e.message : String(e) };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return void res.end();
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sendError(res: ServerResponse, error: ErrorInfo, status = httpStatusFor(error.code)): void {
  if (status === 413 || status === 401 || status === 403) res.setHeader('connection', 'close');
  sendJson(res, status, { error });
}
