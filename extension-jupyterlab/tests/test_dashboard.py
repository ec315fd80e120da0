"""The dashboard route (dashboard.py) in a real jupyter_server with the fake agent, relaying to a small upstream that
behaves like the Ray dashboard where it matters: bearer auth (401 without, 403 wrong), a chunked stream, a 10 MiB
body, Set-Cookie of the Ray token, redirects, a websocket."""

from __future__ import annotations

import asyncio
import json
import socket
from urllib.parse import quote

import pytest
from tornado import httpclient, web, websocket
from tornado.httpserver import HTTPServer
from tornado.iostream import StreamClosedError
from tornado.testing import bind_unused_port

from conftest import RAY

BIG = 10 * 1024 * 1024


class Upstream:
    """What the fake Ray dashboard saw, and the knobs of the tests."""

    def __init__(self) -> None:
        self.token: str | None = "fake-token-1"
        self.seen: list[dict] = []
        self.release = asyncio.Event()
        self.port = 0


class Base(web.RequestHandler):
    def initialize(self, up: Upstream) -> None:
        self.up = up

    def prepare(self) -> None:
        self.up.seen.append({"path": self.request.path, "method": self.request.method, "headers": dict(self.request.headers)})
        if self.up.token is None or self.request.path == "/":
            return
        auth = self.request.headers.get("Authorization")
        if not auth:
            raise web.HTTPError(401, reason="Unauthorized: Missing authentication token")
        if auth != f"Bearer {self.up.token}":
            raise web.HTTPError(403, reason="Forbidden: Invalid authentication token")


class Index(Base):
    def get(self) -> None:
        self.write('<!doctype html><script src="./static/js/main.js"></script>')


class Echo(Base):
    def get(self) -> None:
        self.write({"headers": sorted(self.request.headers), "query": self.request.query})

    def post(self) -> None:
        self.write({"body": self.request.body.decode()})


class Stream(Base):
    async def get(self) -> None:
        self.write("line-1\n")
        await self.flush()
        await self.up.release.wait()
        self.write("line-2\n")


class Big(Base):
    async def get(self) -> None:
        self.set_header("Content-Type", "text/plain")
        self.set_header("Content-Length", str(BIG))
        block = b"x" * 65536
        for _ in range(BIG // len(block)):
            self.write(block)
            await self.flush()


class Cookie(Base):
    def get(self) -> None:
        self.add_header("Set-Cookie", f"ray-authentication-token={self.up.token}; HttpOnly; Path=/; SameSite=Strict")
        self.add_header("Set-Cookie", "theme=dark; Path=/")
        self.write("ok")


class Redirect(Base):
    def get(self) -> None:
        self.redirect("/api/echo?from=redirect")


class Cut(Base):
    async def get(self) -> None:
        self.set_header("Content-Length", "1000")
        self.write(b"0123456789")
        await self.flush()
        self.request.connection.close()


class Tail(websocket.WebSocketHandler):
    def initialize(self, up: Upstream) -> None:
        self.up = up

    def prepare(self) -> None:
        Base.prepare(self)  # type: ignore[arg-type]

    def open(self) -> None:
        self.write_message("hello")

    def on_message(self, message: str | bytes) -> None:
        if message == "bye":
            self.close(1000, "job finished")
        elif message == "drop":
            assert self.ws_connection is not None
            self.ws_connection.stream.close()  # type: ignore[attr-defined]
        else:
            self.write_message(f"echo {message}")


@pytest.fixture
def upstream(jp_asyncio_loop):
    up = Upstream()
    app = web.Application(
        [(path, handler, {"up": up}) for path, handler in [
            (r"/", Index), (r"/api/echo", Echo), (r"/api/stream", Stream), (r"/api/big", Big), (r"/api/cookie", Cookie),
            (r"/api/redirect", Redirect), (r"/api/cut", Cut), (r"/api/jobs/j1/logs/tail", Tail),
        ]]
    )
    sock, up.port = bind_unused_port()
    server = HTTPServer(app)
    server.add_sockets([sock])
    yield up
    server.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def wait_for(predicate, what: str, timeout: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        await asyncio.sleep(0.025)
    raise AssertionError(f"never happened: {what}")


@pytest.fixture
def targets(jp_serverapp):
    return jp_serverapp.web_app.settings["ray_connect_dashboards"]


@pytest.fixture
def connected(call, service, upstream, targets, jp_asyncio_loop):
    """Signed in, connected to RAY, its dashboardUrl pointed at the upstream."""

    async def _connect(**fields):
        await call("beginSignIn", "context:fake", {"method": "token", "token": "good-token"})
        await call("connect", RAY, {})
        want = {"dashboardUrl": f"http://127.0.0.1:{upstream.port}", **fields}
        await service.agent.call("testConnection", RAY, want)
        # the event of the change, not the one of connect (which points at the fake agent's default address)
        await wait_for(
            lambda: all((targets._conns.get(key()) or {}).get(k) == v for k, v in want.items()), "connection seen by the dashboard route"
        )

    return _connect


def key() -> str:
    return f"{RAY['clusterId']}/{RAY['namespace']}/{RAY['name']}"


@pytest.fixture
def dash(jp_http_port, jp_base_url, jp_auth_header):
    base = f"http://127.0.0.1:{jp_http_port}{jp_base_url}ray-connect/dashboard/{quote(RAY['clusterId'], safe='')}/{RAY['namespace']}/{RAY['name']}"
    client = httpclient.AsyncHTTPClient(force_instance=True)
    responses: list[httpclient.HTTPResponse] = []

    async def _fetch(path: str = "/", headers: dict | None = None, auth: bool = True, **kw) -> httpclient.HTTPResponse:
        h = {**(jp_auth_header if auth else {}), **(headers or {})}
        r = await client.fetch(base + path, headers=h, raise_error=False, follow_redirects=False, **kw)
        responses.append(r)
        return r

    _fetch.base = base  # type: ignore[attr-defined]
    _fetch.responses = responses  # type: ignore[attr-defined]
    yield _fetch
    # No response of any test carried the Ray token: not in a header, not in a body.
    for r in responses:
        assert "fake-token" not in str(list(r.headers.get_all())), r.effective_url
        assert b"fake-token" not in (r.body or b""), r.effective_url
    client.close()


async def test_token_is_added_and_browser_credentials_dropped(connected, dash, upstream, jp_auth_header):
    await connected()
    r = await dash(
        "/api/echo?a=1",
        headers={"X-Ray-Authorization": "Bearer from-browser", "Cookie": "ray-authentication-token=from-browser; _xsrf=abc"},
    )
    assert r.code == 200, r.body
    seen = upstream.seen[-1]["headers"]
    assert seen["Authorization"] == "Bearer fake-token-1"
    assert "X-Ray-Authorization" not in seen and "Cookie" not in seen
    assert jp_auth_header["Authorization"].split()[-1] not in json.dumps(seen)  # the Jupyter token stays too
    assert upstream.seen[-1]["path"] == "/api/echo" and json.loads(r.body)["query"] == "a=1"
    assert seen["X-Forwarded-Prefix"].endswith("ray-connect/dashboard/context%3Afake/team-a/raycluster-token")


async def test_token_cached_by_version_and_rotation_reaches_the_next_request(connected, dash, upstream, service, targets):
    await connected()
    for _ in range(3):
        assert (await dash("/api/echo")).code == 200
    calls = await service.agent.call("testCalls")
    assert calls["rayToken"] == 1  # one agent call for many requests
    await service.agent.call("testRotate")
    upstream.token = "fake-token-2"  # Ray restarted with the new Secret
    await wait_for(lambda: key() not in targets._tokens and targets._conns[key()]["tokenVersion"] == 2, "token-rotated seen")
    r = await dash("/api/echo")
    assert r.code == 200, r.body
    assert upstream.seen[-1]["headers"]["Authorization"] == "Bearer fake-token-2"


async def test_rejected_token_is_asked_for_again(connected, dash, upstream, service):
    """A rotation the event stream missed: Ray answers 403, the next request asks the agent for the token."""
    await connected()
    assert (await dash("/api/echo")).code == 200
    upstream.token = "something-else"
    assert (await dash("/api/echo")).code == 403
    before = (await service.agent.call("testCalls"))["rayToken"]
    await dash("/api/echo")
    assert (await service.agent.call("testCalls"))["rayToken"] == before + 1


async def test_cluster_without_auth_gets_no_header(connected, dash, upstream):
    upstream.token = None
    await connected(authMode="none")
    r = await dash("/api/echo")
    assert r.code == 200
    assert "Authorization" not in upstream.seen[-1]["headers"]


async def test_index_is_relayed_and_needs_a_trailing_slash(connected, dash, upstream):
    await connected()
    r = await dash("")
    assert r.code == 302 and r.headers["Location"].endswith("/raycluster-token/")
    r = await dash("/")
    assert r.code == 200 and b"./static/js/main.js" in r.body


async def test_response_streams_as_it_arrives(connected, dash, upstream, jp_auth_header):
    await connected()
    chunks: list[bytes] = []
    req = httpclient.HTTPRequest(dash.base + "/api/stream", headers=jp_auth_header, streaming_callback=chunks.append, request_timeout=0)
    fetch = asyncio.ensure_future(httpclient.AsyncHTTPClient(force_instance=True).fetch(req, raise_error=False))
    await wait_for(lambda: b"line-1" in b"".join(chunks), "first line before the upstream finished")
    assert not fetch.done()
    upstream.release.set()
    r = await fetch
    assert r.code == 200 and b"".join(chunks) == b"line-1\nline-2\n"


async def test_ten_mib_body(connected, dash, upstream, jp_auth_header):
    await connected()
    got = 0

    def count(chunk: bytes) -> None:
        nonlocal got
        got += len(chunk)

    req = httpclient.HTTPRequest(dash.base + "/api/big", headers=jp_auth_header, streaming_callback=count)
    r = await httpclient.AsyncHTTPClient(force_instance=True).fetch(req, raise_error=False)
    assert r.code == 200 and got == BIG
    assert r.headers["Content-Length"] == str(BIG)


async def test_ray_cookie_never_reaches_the_browser(connected, dash, upstream):
    await connected()
    r = await dash("/api/cookie")
    assert r.code == 200
    cookies = [c for c in r.headers.get_list("Set-Cookie") if not c.startswith("username-")]  # Jupyter's own
    assert cookies == ["theme=dark; Path=/"]


async def test_redirect_stays_under_the_route(connected, dash, upstream):
    await connected()
    r = await dash("/api/redirect")
    assert r.code == 302
    assert r.headers["Location"].startswith("/") and "/ray-connect/dashboard/context%3Afake/team-a/raycluster-token/api/echo?from=redirect" in r.headers["Location"]


async def browser_session(base: str, token: str) -> str:
    """Cookies of a browser signed in to Jupyter (login form), as a Cookie header."""
    client = httpclient.AsyncHTTPClient(force_instance=True)
    login = await client.fetch(base + "login", raise_error=False, follow_redirects=False)
    cookies = {c.split("=", 1)[0]: c.split(";", 1)[0].split("=", 1)[1] for c in login.headers.get_list("Set-Cookie")}
    r = await client.fetch(
        base + "login",
        method="POST",
        body=f"password={token}&_xsrf={cookies['_xsrf']}",
        headers={"Cookie": f"_xsrf={cookies['_xsrf']}"},
        follow_redirects=False,
        raise_error=False,
    )
    for c in r.headers.get_list("Set-Cookie"):
        name, value = c.split(";", 1)[0].split("=", 1)
        cookies[name] = value
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


async def test_post_is_relayed_but_not_cross_origin(connected, dash, upstream, jp_http_port, jp_base_url, jp_serverapp):
    """A signed-in browser (cookies, which another site's page would send too): writes only from Jupyter's origin."""
    await connected()
    cookie = await browser_session(f"http://127.0.0.1:{jp_http_port}{jp_base_url}", jp_serverapp.identity_provider.token)
    own = {"Cookie": cookie, "Origin": f"http://127.0.0.1:{jp_http_port}"}
    r = await dash("/api/echo", method="POST", body="{}", auth=False, headers=own)
    assert r.code == 200 and json.loads(r.body)["body"] == "{}"
    assert "Cookie" not in upstream.seen[-1]["headers"]  # Jupyter's session cookie stays here
    n = len(upstream.seen)
    r = await dash("/api/echo", method="POST", body="{}", auth=False, headers={**own, "Origin": "https://evil.example"})
    assert r.code == 403 and len(upstream.seen) == n
    r = await dash("/api/echo", auth=False, headers={"Cookie": cookie})
    assert r.code == 200  # reads with the session cookie


async def test_fronted_dashboard_opens_its_own_url(connected, dash, upstream):
    n = len(upstream.seen)
    await connected(path="fronted", dashboardUrl="https://ray-dashboard-raycluster-token.apps.example/")
    r = await dash("/")
    assert r.code == 302 and r.headers["Location"] == "https://ray-dashboard-raycluster-token.apps.example/"
    assert len(upstream.seen) == n


async def test_not_connected_is_a_clear_503(call, dash, service):
    r = await dash("/")
    assert r.code == 503
    page = r.body.decode()
    assert "raycluster-token" in page and "Ray panel" in page and "Traceback" not in page
    assert r.headers["Content-Type"].startswith("text/html")
    r = await dash("/api/jobs/")
    assert r.code == 503
    err = json.loads(r.body)["error"]
    assert err["code"] == "RAY_UNREACHABLE" and "raycluster-token" in err["message"] and "Ray panel" in err["fix"]


async def test_reconnecting_is_a_503_with_retry_after(connected, dash, service):
    await connected(state="reconnecting")
    r = await dash("/")
    assert r.code == 503 and r.headers["Retry-After"] == "5" and "reconnecting" in r.body.decode()


async def test_upstream_down_is_a_clear_502(connected, dash, service):
    await connected(dashboardUrl=f"http://127.0.0.1:{free_port()}")
    r = await dash("/")
    assert r.code == 502
    page = r.body.decode()
    assert "raycluster-token" in page and "does not answer" in page and "Ray panel" in page
    r = await dash("/api/version")
    assert r.code == 502 and json.loads(r.body)["error"]["code"] == "RAY_UNREACHABLE"


async def test_agent_error_is_a_502_with_its_message(connected, dash, upstream):
    await connected(rayTokenError="ACCESS_DENIED")
    n = len(upstream.seen)
    r = await dash("/api/jobs/")
    assert r.code == 502
    err = json.loads(r.body)["error"]
    assert err["code"] == "ACCESS_DENIED" and "raycluster-token" in err["message"]
    assert len(upstream.seen) == n  # nothing went to Ray without its token


async def test_upstream_cut_mid_response_is_not_a_complete_response(connected, dash, upstream):
    await connected()
    with pytest.raises((httpclient.HTTPClientError, StreamClosedError)):
        await dash("/api/cut")


async def test_needs_jupyter_auth(connected, dash, upstream):
    await connected()
    n = len(upstream.seen)
    r = await dash("/api/echo", auth=False)
    assert r.code in (302, 403)
    assert len(upstream.seen) == n


async def test_websocket_relays_with_the_token_and_closes_cleanly(connected, dash, upstream, jp_auth_header):
    await connected()
    url = dash.base.replace("http://", "ws://") + "/api/jobs/j1/logs/tail"
    ws = await websocket.websocket_connect(httpclient.HTTPRequest(url, headers=jp_auth_header), compression_options={})
    assert await ws.read_message() == "hello"
    assert upstream.seen[-1]["headers"]["Authorization"] == "Bearer fake-token-1"
    assert "Cookie" not in upstream.seen[-1]["headers"]
    # Ray 2.59's log tail closes at once (1000, no message) when permessage-deflate is negotiated: never offered.
    assert "Sec-Websocket-Extensions" not in upstream.seen[-1]["headers"]
    ws.write_message("ping")
    assert await ws.read_message() == "echo ping"
    ws.write_message("bye")
    assert await ws.read_message() is None
    assert ws.close_code == 1000 and ws.close_reason == "job finished"

    # Ray's side drops without a close frame: the browser gets a close frame (1011), not a hang.
    ws = await websocket.websocket_connect(httpclient.HTTPRequest(url, headers=jp_auth_header))
    assert await ws.read_message() == "hello"
    ws.write_message("drop")
    assert await asyncio.wait_for(ws.read_message(), 10) is None
    assert ws.close_code == 1011


async def test_websocket_needs_jupyter_auth_and_a_connection(call, dash, upstream, jp_auth_header, service):
    url = dash.base.replace("http://", "ws://") + "/api/jobs/j1/logs/tail"
    with pytest.raises(httpclient.HTTPClientError) as e:
        await websocket.websocket_connect(httpclient.HTTPRequest(url))
    assert e.value.code == 403
    # authenticated, not connected: closed with the reason
    ws = await websocket.websocket_connect(httpclient.HTTPRequest(url, headers=jp_auth_header))
    assert await asyncio.wait_for(ws.read_message(), 10) is None
    assert ws.close_code == 1011 and "not connected" in (ws.close_reason or "")
