"""The Ray dashboard under the Jupyter server's base URL, with the Ray token added on the server side.

    <base_url>ray-connect/dashboard/<clusterId, URL-encoded>/<namespace>/<name>/<path>

The browser may be on another machine (JupyterHub, an OpenShift AI workbench): the connection's forward on the
server's 127.0.0.1 is out of its reach, so the server relays. jupyter-server-proxy's `ProxyHandler` does the Jupyter
side: authentication on every request, websockets included (`prepare`), the same-origin check for websockets, the
browser-to-upstream websocket relay (frames, pings, close, subprotocols) and the upstream URL (`get_client_uri`). This module adds what Ray needs:

- the upstream is the connection's `dashboardUrl` as the agent reports it (`listConnections`), never assumed loopback;
- the Ray token from the agent (`rayToken`), cached per connection and `tokenVersion`, dropped on the agent's
  `token-rotated` / `connection-changed` events and on a 401/403 from Ray, sent as `Authorization: Bearer`;
- what the browser sent for Ray or Jupyter (`Authorization`, `X-Ray-Authorization`, every cookie) never goes upstream,
  and a `Set-Cookie: ray-authentication-token` from Ray never comes back: the token stays on the server;
- HTTP responses are relayed as they arrive, with backpressure (`proxy` below replaces the library's relay, which
  buffers a whole response unless the request says `Accept: text/event-stream`, and turns a dead upstream into a 500
  with the exception text);
- the upstream websocket is opened without compression (`_open_upstream`: Ray's log tail closes on it);
- a clear page (JSON under `api/`) naming the Ray cluster and the fix when it is not connected or does not answer.
"""

from __future__ import annotations

import asyncio
import html
import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import quote, urlsplit

from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.utils import url_path_join
from jupyter_server_proxy.handlers import ProxyHandler
from tornado import httpclient, httputil, web, websocket
from tornado.iostream import StreamClosedError

from .agent import AgentError, AgentProcess
from .env import ref_key

ROUTE = "ray-connect/dashboard"
# Sent to Ray in neither direction: hop-by-hop headers, and credentials (the browser's for Jupyter, or a Ray token
# it may have been given elsewhere). The server adds the one Ray credential itself.
HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade"}
)
REQUEST_DROP = HOP_BY_HOP | {"authorization", "x-ray-authorization", "cookie", "host", "x-xsrftoken", "x-forwarded-prefix"}
# The upstream websocket handshake is tornado's own (key, version, subprotocols; no compression).
REQUEST_DROP |= {"sec-websocket-key", "sec-websocket-version", "sec-websocket-extensions", "sec-websocket-protocol"}
RAY_COOKIE = re.compile(r"^\s*ray-authentication-token\s*=", re.IGNORECASE)
PIPELINE = 4
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
RECONNECT_FIX = "Reconnect it from the Ray panel (Disconnect, then Connect), then reload this page."


def dashboard_path(ref: dict) -> str:
    """The route of a connection's dashboard, relative to the base URL, with a trailing slash."""
    return f"{ROUTE}/{quote(ref['clusterId'], safe='')}/{quote(ref['namespace'], safe='')}/{quote(ref['name'], safe='')}/"


class _Token:
    """The Ray token: never in repr, logs or exceptions."""

    __slots__ = ("_value",)

    def __init__(self, value: str):
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "[REDACTED]"

    __str__ = __repr__


@dataclass
class Target:
    """Where a connection's dashboard is and what to send it."""

    ref: dict
    host: str
    port: int
    token: _Token | None = field(repr=False)
    token_version: int | None
    fronted_url: str | None = None


class DashboardTargets:
    """Connections and their Ray tokens, kept fresh from the agent's events. Host-free (no tornado.web)."""

    def __init__(self, agent: AgentProcess):
        self.agent = agent
        self._conns: dict[str, dict] = {}
        self._tokens: dict[str, tuple[int | None, _Token | None]] = {}
        self._fetching: dict[str, asyncio.Future] = {}
        self.token_fetches = 0  # rayToken calls made (tests: the cache works)

    # ---- events (RayConnectService.listen)
    def on_event(self, event: dict) -> None:
        kind = event.get("type")
        if kind == "connection-changed":
            conn = event.get("connection") or {}
            if not conn.get("clusterId"):
                return
            key = ref_key(conn)
            if conn.get("state") == "disconnected":
                self.forget(conn)
                return
            self._conns[key] = conn
            if self._tokens.get(key, (None, None))[0] != conn.get("tokenVersion"):
                self._tokens.pop(key, None)
        elif kind == "token-rotated":
            ref = event.get("ref") or {}
            if not ref.get("clusterId"):
                return
            key = ref_key(ref)
            if key in self._conns:
                self._conns[key] = {**self._conns[key], "tokenVersion": event.get("tokenVersion")}
            self._tokens.pop(key, None)
        elif kind == "agent-restarted":
            self._conns.clear()
            self._tokens.clear()
        elif kind == "sign-in-changed":
            if (event.get("state") or {}).get("status") in ("signed-out", "expired"):
                for key, conn in list(self._conns.items()):
                    if conn.get("clusterId") == event.get("clusterId"):
                        self.forget(conn)

    def forget(self, ref: dict) -> None:
        """Drop what is known of a connection: the next request asks the agent again."""
        self._conns.pop(ref_key(ref), None)
        self._tokens.pop(ref_key(ref), None)

    def forget_token(self, ref: dict) -> None:
        self._tokens.pop(ref_key(ref), None)

    # ---- lookups
    async def resolve(self, ref: dict) -> Target:
        key = ref_key(ref)
        conn = self._conns.get(key)
        if conn is None:
            for c in await self.agent.call("listConnections") or []:
                if c.get("state") != "disconnected":
                    self._conns[ref_key(c)] = c
            conn = self._conns.get(key)
        where = f"{ref['name']} (namespace {ref['namespace']}, {ref['clusterId']})"
        if conn is None:
            raise AgentError(
                "RAY_UNREACHABLE",
                f"Ray cluster {where} is not connected in this Jupyter server.",
                "Connect it from the Ray panel, then open its dashboard again.",
                503,
            )
        state = conn.get("state")
        if state in ("connecting", "reconnecting"):
            raise AgentError(
                "RAY_UNREACHABLE",
                f"Ray Connect is {state} to the head of Ray cluster {where}.",
                "Reload this page in a few seconds. If it stays like this, " + RECONNECT_FIX[0].lower() + RECONNECT_FIX[1:],
                503,
            )
        if state == "failed":
            err = conn.get("error") or {}
            raise AgentError(
                "RAY_UNREACHABLE",
                f"The connection to Ray cluster {where} failed" + (f": {err['message']}" if err.get("message") else "."),
                err.get("fix") or RECONNECT_FIX,
                502,
            )
        # An OpenShift AI route or gateway in front (`path: fronted`): the browser goes there, with its own login.
        fronted = conn.get("frontedBy")
        fronted_url = fronted.get("url") if isinstance(fronted, dict) else None
        if conn.get("path") == "fronted":
            fronted_url = fronted_url or conn.get("dashboardUrl")
        if fronted_url:
            return Target(ref, "", 0, None, conn.get("tokenVersion"), fronted_url=str(fronted_url))
        url = urlsplit(str(conn.get("dashboardUrl") or ""))
        if url.scheme != "http" or not url.hostname:
            raise AgentError(
                "RAY_UNREACHABLE",
                f"Ray cluster {where} has no dashboard address this server can relay ({conn.get('dashboardUrl') or 'none'}).",
                RECONNECT_FIX,
                502,
            )
        version, token = await self._token(ref, conn)
        return Target(ref, url.hostname, url.port or 80, token, version)

    async def _token(self, ref: dict, conn: dict) -> tuple[int | None, _Token | None]:
        if conn.get("authMode") == "none":
            return conn.get("tokenVersion"), None
        key = ref_key(ref)
        cached = self._tokens.get(key)
        if cached is not None and cached[0] == conn.get("tokenVersion"):
            return cached
        pending = self._fetching.get(key)
        if pending is None:  # one rayToken call for a burst of requests (the dashboard loads ~20 at once)
            pending = asyncio.ensure_future(self._fetch_token(ref, conn.get("tokenVersion")))
            self._fetching[key] = pending
            pending.add_done_callback(lambda _f: self._fetching.pop(key, None))
        return await asyncio.shield(pending)

    async def _fetch_token(self, ref: dict, version: int | None) -> tuple[int | None, _Token | None]:
        self.token_fetches += 1
        try:
            answer = await self.agent.call("rayToken", {k: ref[k] for k in ("clusterId", "namespace", "name")})
            entry: tuple[int | None, _Token | None] = (version, _Token(str(answer["token"])))
        except AgentError as e:
            if e.code != "RAY_TOKEN_NOT_FOUND":
                raise
            entry = (version, None)  # no auth on this cluster
        # An event may have moved the version on meanwhile: keep the token only if it still applies.
        conn = self._conns.get(ref_key(ref))
        if conn is None or conn.get("tokenVersion") == version:
            self._tokens[ref_key(ref)] = entry
        return entry


class DashboardProxyHandler(ProxyHandler):
    """`GET|POST|... <base_url>ray-connect/dashboard/<clusterId>/<namespace>/<name>/<path>`, websockets included."""

    _target: Target | None = None

    @property
    def targets(self) -> DashboardTargets:
        return self.settings["ray_connect_dashboards"]

    @property
    def client(self) -> httpclient.AsyncHTTPClient:
        return self.settings["ray_connect_dashboard_client"]

    # ---- the methods (ProxyHandler leaves them to subclasses); path args are already URL-decoded by tornado
    async def http_get(self, cluster_id: str, namespace: str, name: str, path: str) -> None:
        await self.proxy(cluster_id, namespace, name, path)

    async def post(self, cluster_id: str, namespace: str, name: str, path: str) -> None:  # type: ignore[override]
        await self.proxy(cluster_id, namespace, name, path)

    put = delete = patch = options = head = post  # type: ignore[assignment]

    # ---- HTTP
    async def proxy(self, cluster_id: str, namespace: str, name: str, path: str) -> None:  # type: ignore[override]
        ref = {"clusterId": cluster_id, "namespace": namespace, "name": name}
        self.proxy_base = dashboard_path(ref).rstrip("/")
        if not path:  # the dashboard's URLs are relative: it must live under a trailing slash
            if self.request.method in ("GET", "HEAD"):
                self.redirect(self.request.path + "/" + (f"?{self.request.query}" if self.request.query else ""))
                return
            raise web.HTTPError(404)
        if self.request.method in UNSAFE_METHODS and self.request.headers.get("Origin") and not JupyterHandler.check_origin(self):
            # jupyter-server-proxy leaves XSRF to the proxied app; the server adds a credential here, so a page of
            # another origin must not be able to send writes through it.
            raise web.HTTPError(403, "Cross-origin request refused")
        try:
            target = await self.targets.resolve(ref)
        except AgentError as e:
            self.unavailable(e, path)
            return
        if target.fronted_url:
            if self.request.method in ("GET", "HEAD"):
                self.redirect(target.fronted_url)
                return
            raise web.HTTPError(404)
        self._target = target
        self._record_activity()
        await self._relay(target, path)

    async def _relay(self, target: Target, path: str) -> None:
        method = self.request.method or "GET"
        body: bytes | None = self.request.body or None
        if body is None and method in ("POST", "PUT", "PATCH"):
            body = b""
        gone = False
        started = False

        def on_header(line: str) -> None:
            nonlocal started
            if line.startswith("HTTP/"):
                parts = line.rstrip("\r\n").split(" ", 2)
                self._upstream_status = (int(parts[1]), parts[2] if len(parts) > 2 else None)
                self._upstream_headers = httputil.HTTPHeaders()
            elif line in ("\r\n", "\n"):
                started = True
                self._start_response(target)
            else:
                self._upstream_headers.parse_line(line)

        writes: list[Any] = []  # flushes not yet on the wire, oldest first

        def on_chunk(chunk: bytes) -> Any:
            if gone:
                raise StreamClosedError()  # the browser left: stop reading from Ray
            self.write(chunk)
            # RequestHandler's flush (the library's websocket mixin wraps self.flush and drops its future).
            flushed = web.RequestHandler.flush(self)
            flushed.add_done_callback(lambda f: f.exception())
            writes.append(flushed)
            while writes and writes[0].done():
                writes.pop(0)
            # Backpressure with a little pipelining: reading the next chunk from Ray overlaps writing this one, but
            # tornado waits (it awaits what this returns) once PIPELINE writes are still pending: the browser's
            # pace is Ray's pace, and at most PIPELINE chunks (64 KiB each) sit in memory.
            return writes[0] if len(writes) > PIPELINE else None

        def on_close() -> None:
            nonlocal gone
            gone = True

        self._on_gone = on_close
        request = httpclient.HTTPRequest(
            self.get_client_uri("http", target.host, target.port, path),
            method=method,
            headers=self.proxy_request_headers(),
            body=body,
            follow_redirects=False,
            decompress_response=False,
            allow_nonstandard_methods=True,
            connect_timeout=10,
            request_timeout=0,  # log streams last as long as the job
            header_callback=on_header,
            streaming_callback=on_chunk,
        )
        try:
            await self.client.fetch(request, raise_error=False)
        except (OSError, StreamClosedError, httpclient.HTTPClientError) as e:
            if gone:
                return
            if started:
                # Ray went away mid-response: end the connection so the browser sees it cut, not complete.
                self.log.warning("Ray dashboard of %s closed mid-response: %s", target.ref["name"], type(e).__name__)
                self.request.connection.close()
                self._finished = True
                return
            self.targets.forget(target.ref)  # the connection may have moved: ask the agent next time
            where = f"{target.ref['name']} (namespace {target.ref['namespace']})"
            self.unavailable(
                AgentError(
                    "RAY_UNREACHABLE",
                    f"The dashboard of Ray cluster {where} does not answer at {target.host}:{target.port} "
                    "(the head may be restarting, or the connection was lost).",
                    "Reload this page in a few seconds. If it still fails, " + RECONNECT_FIX[0].lower() + RECONNECT_FIX[1:],
                    502,
                ),
                path,
            )
            return
        if not started:  # no header block (should not happen with a response)
            self._start_response(target)

    def _start_response(self, target: Target) -> None:
        code, reason = getattr(self, "_upstream_status", (502, None))
        headers: httputil.HTTPHeaders = getattr(self, "_upstream_headers", httputil.HTTPHeaders())
        if code in (401, 403) and target.token is not None:
            self.targets.forget_token(target.ref)  # rotated: the next request asks the agent for the current one
        self.set_status(code, reason)
        self.clear_header("Content-Type")
        for name in {k for k, _ in headers.get_all()}:
            self.clear_header(name)
        for name, value in headers.get_all():
            lname = name.lower()
            if lname in HOP_BY_HOP:
                continue
            if lname == "set-cookie" and RAY_COOKIE.match(value):
                continue  # the browser must never hold the Ray token
            if lname == "location" and value.startswith("/") and not value.startswith("//"):
                value = url_path_join(self.base_url, self.proxy_base, value)
            self.add_header(name, value)
        if self.request.method != "HEAD" and code not in (204, 304):
            # headers now: a stream's first bytes may be a while (a browser that left is seen by on_chunk)
            web.RequestHandler.flush(self).add_done_callback(lambda f: f.exception())

    def on_connection_close(self) -> None:
        gone = getattr(self, "_on_gone", None)
        if gone:
            gone()
        super().on_connection_close()

    def proxy_request_headers(self) -> httputil.HTTPHeaders:
        headers = httputil.HTTPHeaders()
        for name, value in self.request.headers.get_all():
            if name.lower() not in REQUEST_DROP:
                headers.add(name, value)
        target = self._target
        if target is not None and target.token is not None:
            headers["Authorization"] = f"Bearer {target.token.reveal()}"
        headers["X-Forwarded-Prefix"] = url_path_join(self.base_url, self.proxy_base)
        return headers

    # ---- websockets (the library relays frames; open() finds the upstream first)
    async def open(self, cluster_id: str, namespace: str, name: str, path: str) -> None:  # type: ignore[override]
        ref = {"clusterId": cluster_id, "namespace": namespace, "name": name}
        self.proxy_base = dashboard_path(ref).rstrip("/")
        try:
            target = await self.targets.resolve(ref)
            if target.fronted_url:
                raise AgentError("BAD_REQUEST", f"The dashboard of {name} is served at {target.fronted_url}.", None, 404)
        except AgentError as e:
            self.close(1011, e.message[:120])
            return
        self._target = target
        try:
            await self._open_upstream(target, path or "/")
        except (OSError, StreamClosedError, httpclient.HTTPClientError, websocket.WebSocketError) as e:
            self.targets.forget(target.ref)
            self.log.warning("Ray dashboard websocket of %s did not open: %s", name, type(e).__name__)
            self.close(1011, f"The dashboard of Ray cluster {name} does not answer; reconnect from the Ray panel."[:120])

    async def _open_upstream(self, target: Target, path: str) -> None:
        """The library's proxy_open, without permessage-deflate: Ray 2.59's job log tail (aiohttp) closes at once
        (1000, no message) when the client offers it, and proxy_open always does. Browser to Ray frames, pings and
        closes are the library's (on_message, on_ping, on_close use self.ws)."""

        def on_message(message: str | bytes | None) -> None:
            self._record_activity()
            if message is None:
                self.close()
                return
            try:
                self.write_message(message, binary=isinstance(message, bytes))
            except websocket.WebSocketClosedError:
                self.ws.close()

        request = httpclient.HTTPRequest(
            self.get_client_uri("ws", target.host, target.port, path),
            headers=self.proxy_request_headers(),
            connect_timeout=10,
        )
        self.ws = await websocket.websocket_connect(
            request,
            on_message_callback=on_message,
            compression_options=None,
            subprotocols=self._requested_subprotocols,
        )
        self._record_activity()

    def close(self, code: int | None = None, reason: str | None = None) -> None:
        # The library closes without a code when Ray's side ends; relay Ray's code, or 1011 if it just dropped.
        upstream = getattr(self, "ws", None)
        if code is None and upstream is not None:
            code = upstream.close_code or 1011
            reason = upstream.close_reason if upstream.close_code else "The Ray dashboard closed the connection."
        super().close(code, reason)

    # ---- errors
    def unavailable(self, error: AgentError, path: str) -> None:
        self.clear()
        # The browser's request was fine; what stands behind it is not: 503 (try again soon) or 502, never a 4xx/500.
        self.set_status(503 if error.code == "AGENT_UNAVAILABLE" or error.status == 503 else 502)
        self.set_header("Cache-Control", "no-store")
        if self.get_status() == 503:
            self.set_header("Retry-After", "5")
        accept = self.request.headers.get("Accept", "")
        if path.startswith("/api/") or ("json" in accept and "html" not in accept):
            self.set_header("Content-Type", "application/json")
            self.finish(json.dumps({"error": error.info()}))
            return
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(error_page(error))


def error_page(error: AgentError) -> str:
    esc = html.escape
    fix = f"<p><strong>What to do:</strong> {esc(error.fix)}</p>" if error.fix else ""
    return (
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Ray dashboard unavailable</title>"
        "<style>body{font-family:system-ui,sans-serif;max-width:42rem;margin:3rem auto;padding:0 1rem;line-height:1.5}"
        "code{background:#eee;padding:0 .2rem}</style></head><body>"
        "<h1>Ray dashboard unavailable</h1>"
        f"<p>{esc(error.message)}</p>{fix}"
        f"<p><small>Ray Connect, error {esc(error.code)}</small></p></body></html>"
    )


def make_client() -> httpclient.AsyncHTTPClient:
    """One client for all dashboard requests: the dashboard keeps several long requests open at once (log views),
    so the default of 10 concurrent requests would queue the rest; bodies are streamed, so no size cap."""
    return httpclient.AsyncHTTPClient(force_instance=True, max_clients=256, max_body_size=1 << 50)


def handlers(base_url: str) -> list[tuple[str, type]]:
    return [(url_path_join(base_url, ROUTE, r"([^/]+)/([^/]+)/([^/]+)(/.*|)"), DashboardProxyHandler)]


def install(settings: dict, listen: Callable[[Callable[[dict], None]], Callable[[], None]], agent: AgentProcess) -> Callable[[], None]:
    """Puts the targets and the client into the web app's settings; returns the function that undoes it."""
    targets = DashboardTargets(agent)
    settings["ray_connect_dashboards"] = targets
    client = make_client()
    settings["ray_connect_dashboard_client"] = client
    unlisten = listen(targets.on_event)

    def uninstall() -> None:
        unlisten()
        client.close()

    return uninstall
