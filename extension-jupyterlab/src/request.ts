import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';
import type {
  AgentMethod,
  BrowserRedirectSetting,
  ErrorInfo,
  RayConnectApi,
  RayConnectEvent,
} from '@ray-connect/shared';

/** An error from the server extension or the agent, with its stable code. */
export class RayConnectRequestError extends Error {
  constructor(
    readonly info: ErrorInfo,
    readonly status: number,
  ) {
    super(info.message);
    this.name = 'RayConnectRequestError';
  }
}

/** The one request helper: `<base>/ray-connect/<path>` through Jupyter's auth (token header, XSRF cookie). */
export async function requestAPI<T>(path: string, init: RequestInit = {}): Promise<T> {
  const settings = ServerConnection.makeSettings();
  const url = URLExt.join(settings.baseUrl, 'ray-connect', path);
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, settings);
  } catch (error) {
    throw new RayConnectRequestError(
      { code: 'AGENT_UNAVAILABLE', message: `The Jupyter server did not answer (${String(error)}).` },
      0,
    );
  }
  const text = await response.text();
  let data: unknown = {};
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = {};
    }
  }
  if (!response.ok) {
    const info = (data as { error?: ErrorInfo }).error;
    throw new RayConnectRequestError(
      info ?? {
        code: response.status === 404 ? 'AGENT_UNAVAILABLE' : 'INTERNAL',
        message:
          response.status === 404
            ? 'The Ray Connect server extension is not enabled on this Jupyter server.'
            : `The server answered ${response.status}.`,
        fix:
          response.status === 404
            ? 'pip install ray-connect-jupyterlab, then restart Jupyter (jupyter server extension list shows it).'
            : undefined,
      },
      response.status,
    );
  }
  return data as T;
}

type Api = Omit<RayConnectApi, 'onEvent'>;

/** Calls a RayConnectApi method on the agent, through the server extension. */
export async function call<M extends AgentMethod>(
  method: M,
  ...args: Parameters<Api[M]>
): Promise<Awaited<ReturnType<Api[M]>>> {
  const body = await requestAPI<{ result: Awaited<ReturnType<Api[M]>> }>(`call/${method}`, {
    method: 'POST',
    body: JSON.stringify({ args }),
  });
  return body.result;
}

/** Events the server adds to the agent's: its env changed; the agent could not start. */
export type ServerEvent =
  | RayConnectEvent
  /** The env the server hands out, or how many kernels and terminals hold it, changed (names and counts only). */
  | ({ type: 'env-changed' } & EnvState)
  | { type: 'agent-error'; error: ErrorInfo }
  /** The agent process exited without being stopped (killed, crashed) and the server started a new one. */
  | { type: 'agent-restarted'; exitCode: number | null };

/**
 * Opens `GET /ray-connect/events` (server-sent events) with fetch, so Jupyter's auth headers apply, and hands the
 * text to `onText` as it arrives. Resolves when the stream ends, rejects when it fails or `signal` aborts. The
 * liveness monitor (liveness.ts) decides what a silence or an end means.
 */
export async function openEventStream(signal: AbortSignal, onText: (text: string) => void): Promise<void> {
  const settings = ServerConnection.makeSettings();
  const url = URLExt.join(settings.baseUrl, 'ray-connect', 'events');
  const response = await ServerConnection.makeRequest(url, { signal }, settings);
  if (!response.ok || !response.body) throw new Error(`events: the server answered ${response.status}`);
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      onText(decoder.decode(value, { stream: true }));
    }
  } finally {
    reader.releaseLock();
  }
}

/**
 * Whether this page's Jupyter server answers with the Ray Connect server extension: the version endpoint, its own
 * JSON (a hub's spawn page or a proxy's error page is not an answer).
 */
export async function probeServer(signal: AbortSignal): Promise<boolean> {
  const settings = ServerConnection.makeSettings();
  // `alive` redirects to the login URL when the page's credentials no longer hold: behind JupyterHub that is the
  // hub's OAuth flow, which a respawned server needs (its old OAuth client is gone) and this fetch follows back.
  const url = URLExt.join(settings.baseUrl, 'ray-connect', 'alive');
  try {
    const response = await ServerConnection.makeRequest(
      url,
      { signal, cache: 'no-store', redirect: 'follow' },
      settings,
    );
    const data = (await response.json()) as { server?: { version?: unknown }; error?: { code?: unknown } };
    // Its own error (the agent failed, versions differ) is an answer too: the server is there.
    return typeof data.server?.version === 'string' || typeof data.error?.code === 'string';
  } catch {
    return false;
  }
}

export interface ServerInfo {
  server: { version: string; protocol: number };
  agent: { version: string; protocol: number };
  inPod: boolean;
  inject: boolean;
  /** How browser sign-in comes back from a page elsewhere (RayConnectApp.browser_redirect); older servers: absent. */
  browserRedirect?: BrowserRedirectSetting;
}

/**
 * `GET /ray-connect/env`: what the server hands to kernels and terminals, without any value (the token never
 * reaches the page: the server gives the env to kernels and terminals itself).
 */
export interface EnvState {
  /** The connection whose env is handed out; null when none is, or injection is off. */
  active: { clusterId: string; namespace: string; name: string } | null;
  /** Names of the variables handed out (RAY_ADDRESS, RAY_AUTH_MODE, RAY_AUTH_TOKEN, ...). */
  keys: string[];
  tokenVersion: number | null;
  inject: boolean;
  /** Kernels that hold the current env (started with it, or running Python kernels the server updated). */
  kernels: number;
  /** Running kernels of another language, started before: they get it on their next restart. */
  skippedKernels: number;
  /** Terminals started with the current env (a terminal's env cannot change after it started). */
  terminals: number;
}
