// The CLI's side of the agent protocol (shared/src/protocol.ts): a RayConnect whose every method is a call to a
// running agent. The verbs stay in one place (the core, inside the agent); the commands only present the results.
import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import { type RayConnect, RayConnectError, type Secret } from '@ray-connect/core';
import { AGENT_METHODS, type ErrorInfo, isErrorCode, type RayConnectEvent } from '@ray-connect/shared';

export interface AgentEndpoint {
  port: number;
  pid: number;
  secret: Secret;
}

/** A RayConnect backed by the agent at 127.0.0.1:<port>. `close()` lets go of the event stream, not of the agent. */
export function agentClient(endpoint: AgentEndpoint): RayConnect {
  const listeners = new Set<(event: RayConnectEvent) => void>();
  let stream: ClientRequest | undefined;
  const calls = Object.fromEntries(
    AGENT_METHODS.map((method) => [method, (...args: unknown[]) => call(endpoint, method, args)]),
  );

  function openStream(): void {
    let buffer = '';
    stream = request(
      {
        host: '127.0.0.1',
        port: endpoint.port,
        path: '/v1/events',
        headers: { authorization: `Bearer ${endpoint.secret.reveal()}`, accept: 'text/event-stream' },
      },
      (res) => {
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffer += chunk;
          let end: number;
          while ((end = buffer.indexOf('\n\n')) !== -1) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            for (const line of block.split('\n')) {
              if (!line.startsWith('data: ')) continue;
              let event: RayConnectEvent;
              try {
                event = JSON.parse(line.slice(6)) as RayConnectEvent;
              } catch {
                continue;
              }
              for (const l of listeners) l(event);
            }
          }
        });
      },
    );
    stream.on('error', () => undefined);
    stream.end();
  }

  return {
    ...(calls as unknown as Omit<RayConnect, 'onEvent' | 'close'>),
    onEvent(listener) {
      listeners.add(listener);
      if (!stream) openStream();
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0) {
          stream?.destroy();
          stream = undefined;
        }
      };
    },
    async close() {
      listeners.clear();
      stream?.destroy();
      stream = undefined;
    },
  };
}

/** POST /v1/call/<method>: the result, or the agent's error as a RayConnectError (same code, message, fix). */
function call(endpoint: AgentEndpoint, method: string, args: unknown[]): Promise<unknown> {
  const body = JSON.stringify({ args });
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: endpoint.port,
        path: `/v1/call/${method}`,
        method: 'POST',
        headers: {
          authorization: `Bearer ${endpoint.secret.reveal()}`,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        readJson(res).then((parsed) => {
          if (parsed && typeof parsed === 'object' && 'result' in parsed)
            return resolve((parsed as { result: unknown }).result);
          const error = (parsed as { error?: ErrorInfo } | undefined)?.error;
          if (error && isErrorCode(error.code))
            return reject(
              new RayConnectError(error.code, error.message, {
                ...(error.fix !== undefined && { fix: error.fix }),
                ...(error.details !== undefined && { details: error.details }),
              }),
            );
          reject(unavailable(endpoint, `it answered HTTP ${res.statusCode ?? '?'} without a result`));
        }, reject);
      },
    );
    req.on('error', (e) => reject(unavailable(endpoint, e.message)));
    req.end(body);
  });
}

async function readJson(res: IncomingMessage): Promise<unknown> {
  let text = '';
  res.setEncoding('utf8');
  for await (const chunk of res) text += chunk as string;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function unavailable(endpoint: AgentEndpoint, reason: string): RayConnectError {
  return new RayConnectError(
    'AGENT_UNAVAILABLE',
    `The Ray Connect agent of the Jupyter server (pid ${endpoint.pid}, port ${endpoint.port}) did not answer: ${reason}`,
    {
      fix: 'Run the command again (with no agent running, ray-connect uses its own store), or set RAY_CONNECT_AGENT=off to never use the agent.',
    },
  );
}
