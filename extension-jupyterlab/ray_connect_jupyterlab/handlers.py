"""Thin HTTP handlers over RayConnectService. Every handler is @tornado.web.authenticated; POST/PUT are XSRF-checked
by jupyter_server's APIHandler.prepare (as for every Jupyter API)."""

from __future__ import annotations

import asyncio
import json
import secrets
from typing import Any

import tornado.web
from jupyter_server.base.handlers import APIHandler, JupyterHandler
from jupyter_server.utils import url_path_join
from tornado.iostream import StreamClosedError

from ._version import __version__
from .agent import AgentError
from .protocol import AGENT_METHODS
from .service import RayConnectService

# The default interval of the event stream's heartbeat (RayConnectApp.heartbeat_seconds); the page declares the
# server lost after 2.5 intervals of silence: 25 s, inside the 30 s the panel promises.
HEARTBEAT_SECONDS = 10.0
# Random per server process, in every heartbeat: after a loss the page tells a new server (new agent) from the old.
SERVER_ID = secrets.token_hex(8)


class BaseHandler(APIHandler):
    @property
    def service(self) -> RayConnectService:
        return self.settings["ray_connect"]

    def fail(self, error: AgentError) -> None:
        self.set_status(error.status)
        self.finish(json.dumps({"error": error.info()}))

    def body_json(self) -> Any:
        try:
            return json.loads(self.request.body or b"{}")
        except json.JSONDecodeError as e:
            raise AgentError("BAD_REQUEST", "The request body is not JSON.", None, 400) from e


class VersionHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        try:
            self.finish(json.dumps(await self.service.version(self.get_query_argument("frontend", None))))
        except AgentError as e:
            self.fail(e)


class AliveHandler(JupyterHandler):
    """What the page polls while its server is lost. A page handler, not an API one, on purpose: unauthenticated,
    it redirects to the login URL instead of answering 403. Behind JupyterHub a respawned server's OAuth client is
    new (the old one and the browser's token for it are deleted when the server stops), so the page's cookie no
    longer works; the page's fetch follows that redirect through the hub's OAuth flow (the hub session still holds)
    back here with a fresh cookie, and the page recovers without a reload. Standalone Jupyter: its login page (HTML),
    which the page does not take for an answer."""

    @tornado.web.authenticated
    def get(self) -> None:
        self.set_header("Content-Type", "application/json")
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps({"server": {"version": __version__}, "serverId": SERVER_ID}))


class CallHandler(BaseHandler):
    @tornado.web.authenticated
    async def post(self, method: str) -> None:
        try:
            if method not in AGENT_METHODS:
                raise AgentError("BAD_REQUEST", f"Unknown method {method}.", None, 404)
            body = self.body_json()
            args = body.get("args", []) if isinstance(body, dict) else None
            if not isinstance(args, list):
                raise AgentError("BAD_REQUEST", "The body must be {\"args\": [...]}.", None, 400)
            status, answer = await self.service.call(method, args)
        except AgentError as e:
            self.fail(e)
            return
        self.set_status(status if 200 <= status < 600 and status != 599 else 502)
        self.finish(json.dumps(answer))


class EnvHandler(BaseHandler):
    """The env handed to kernels and terminals: names and counts only, never a value (the server applies it)."""

    @tornado.web.authenticated
    def get(self) -> None:
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps(self.service.env_state()))

    @tornado.web.authenticated
    def post(self) -> None:
        """Apply the env to running Python kernels again."""
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps(self.service.reapply_env()))

    @tornado.web.authenticated
    async def put(self) -> None:
        try:
            body = self.body_json()
            if not isinstance(body, dict) or not isinstance(body.get("inject"), bool):
                raise AgentError("BAD_REQUEST", "The body must be {\"inject\": true|false}.", None, 400)
            await self.service.set_inject(body["inject"])
        except AgentError as e:
            self.fail(e)
            return
        self.finish(json.dumps({"inject": self.service.book.enabled}))


class EventsHandler(BaseHandler):
    """Server-sent events: the agent's events (one upstream stream, fanned out) plus `env-changed`, and a `heartbeat`
    event every N seconds that the page can see (comments never reach an EventSource's listeners). Every heartbeat
    announces N and this server's id (the first as soon as the agent runs): the page treats 2.5 N seconds without a byte
    as a lost server (a proxy may keep a dead server's stream open and silent) and a new id as a new server."""

    @tornado.web.authenticated
    async def get(self) -> None:
        self.set_header("Content-Type", "text/event-stream")
        self.set_header("Cache-Control", "no-cache")
        self.set_header("X-Accel-Buffering", "no")
        interval = float(self.settings.get("ray_connect_heartbeat_seconds", HEARTBEAT_SECONDS))
        heartbeat = f"data: {json.dumps({'type': 'heartbeat', 'intervalSeconds': interval, 'serverId': SERVER_ID})}\n\n"
        queue: asyncio.Queue[dict] = asyncio.Queue()
        unlisten = self.service.listen(queue.put_nowait)
        try:
            # The first heartbeat once the agent runs (its events flow from then on); beats while it starts, if
            # that takes a while. The start is never cancelled (others may wait for it): its outcome is read here
            # or, if the page went away first, dropped.
            ready = asyncio.ensure_future(self.service.agent.ensure())
            ready.add_done_callback(lambda t: t.cancelled() or t.exception())
            while not (await asyncio.wait({ready}, timeout=interval))[0]:
                self.write(heartbeat)
                await self.flush()
            try:
                ready.result()
            except AgentError as e:
                self.write(f"data: {json.dumps({'type': 'agent-error', 'error': e.info()})}\n\n")
            self.write(heartbeat)
            await self.flush()
            while True:
                try:
                    event = await asyncio.wait_for(queue.get(), interval)
                    self.write(f"data: {json.dumps(event)}\n\n")
                except asyncio.TimeoutError:
                    self.write(heartbeat)
                await self.flush()
        except StreamClosedError:
            pass
        finally:
            unlisten()

    def on_connection_close(self) -> None:
        # The loop above ends at its next flush (StreamClosedError).
        super().on_connection_close()


def handlers(base_url: str) -> list[tuple[str, type]]:
    from .oauth_callback import OAuthCallbackHandler  # it builds on BaseHandler

    root = url_path_join(base_url, "ray-connect")
    return [
        (url_path_join(root, "oauth", "callback"), OAuthCallbackHandler),
        (url_path_join(root, "version"), VersionHandler),
        (url_path_join(root, "alive"), AliveHandler),
        (url_path_join(root, "call", r"([A-Za-z]+)"), CallHandler),
        (url_path_join(root, "env"), EnvHandler),
        (url_path_join(root, "events"), EventsHandler),
    ]
