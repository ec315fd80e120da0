import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const PAGE = (title: string, text: string) =>
  `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title></head>` +
  `<body style="font-family:sans-serif;margin:3em"><h1>${title}</h1><p>${text}</p></body></html>`;

/** What the handler decided about one request to the redirect path. */
export type RedirectOutcome =
  { kind: 'done' } | { kind: 'failed'; message: string } | { kind: 'ignore'; message: string };

export interface LoopbackRedirect {
  /** `http://127.0.0.1:<port>/callback` */
  redirectUri: string;
  close(): Promise<void>;
}

/**
 * Listens on 127.0.0.1 on a random port for the browser's redirect back from the sign-in page.
 * `handle` gets the full callback URL; the browser then sees a small page ("You can close this tab").
 * Requests that are not for us (wrong path, wrong state) get an error page and do not end the sign-in.
 */
export async function listenForRedirect(
  handle: (url: URL) => Promise<RedirectOutcome>,
): Promise<LoopbackRedirect> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${port()}`);
    const send = (status: number, title: string, text: string) => {
      const headers = { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' };
      res.writeHead(status, closing ? { ...headers, connection: 'close' } : headers);
      res.end(PAGE(title, text));
    };
    if (req.method !== 'GET' || url.pathname !== '/callback')
      return send(404, 'Not found', 'This is the Ray Connect sign-in listener.');
    handle(url).then(
      (outcome) => {
        if (outcome.kind === 'done')
          send(200, 'Signed in to Ray Connect', 'You can close this tab and go back to your editor.');
        else if (outcome.kind === 'failed') send(400, 'Sign-in failed', escapeHtml(outcome.message));
        else send(400, 'Not a valid sign-in response', escapeHtml(outcome.message));
      },
      (e: unknown) => send(500, 'Sign-in failed', escapeHtml(e instanceof Error ? e.message : String(e))),
    );
  });
  let closing = false;
  const port = () => (server.address() as AddressInfo | null)?.port ?? 0;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  // Not unref'd: a process whose only work left is waiting for the browser (the CLI's `login --browser`) must stay
  // alive until the redirect comes; the flow's timeout or cancel closes the listener.
  return {
    redirectUri: `http://127.0.0.1:${port()}/callback`,
    // Stops listening at once; a page being answered is still delivered, then its connection closes.
    close: () =>
      new Promise<void>((resolve) => {
        closing = true;
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 2000).unref();
      }),
  };
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
