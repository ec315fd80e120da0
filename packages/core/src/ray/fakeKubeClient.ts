import { RayConnectError } from '../errors.js';
import type { KubeClient, KubeRequest, KubeWebSocketOptions } from '../ports/KubeClient.js';
import { Secret } from '../secret.js';

type Handler = (req: KubeRequest) => unknown;

/**
 * An in-memory KubeClient for tests: answers by `METHOD path` (exact, or a function), 404 otherwise, and records
 * every request. `status(code)` builds the error a real KubeClient throws for an HTTP status.
 */
export class FakeKubeClient implements KubeClient {
  readonly requests: KubeRequest[] = [];
  readonly routes = new Map<string, unknown>();
  token: { token: Secret; expiresAt?: number } | undefined = { token: new Secret('fake-user-token') };
  wsOptions: KubeWebSocketOptions = { headers: {}, rejectUnauthorized: true };

  constructor(
    public server = 'https://127.0.0.1:6443',
    public namespace = 'default',
  ) {}

  /** Answer `GET path` (or `POST path`...) with a value, a handler, or a thrown error. */
  on(method: string, path: string, answer: unknown | Handler): this {
    this.routes.set(`${method} ${path}`, answer);
    return this;
  }

  static status(status: number, message = `HTTP ${status}`): RayConnectError {
    const code = status === 403 ? 'ACCESS_DENIED' : status === 401 ? 'TOKEN_INVALID' : 'INTERNAL';
    return new RayConnectError(code, message, { details: { status } });
  }

  async request<T = unknown>(req: KubeRequest): Promise<T> {
    this.requests.push(req);
    const answer = this.routes.get(`${req.method ?? 'GET'} ${req.path}`);
    if (answer === undefined) throw FakeKubeClient.status(404, `not found: ${req.path}`);
    if (answer instanceof Error) throw answer;
    const value = typeof answer === 'function' ? (answer as Handler)(req) : answer;
    if (value instanceof Error) throw value;
    return structuredClone(value) as T;
  }

  async bearerToken(): Promise<{ token: Secret; expiresAt?: number } | undefined> {
    return this.token;
  }

  async webSocketOptions(): Promise<KubeWebSocketOptions> {
    return this.wsOptions;
  }
}
