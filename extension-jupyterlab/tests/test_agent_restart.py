"""The agent process killed while JupyterLab runs (issue 9): the server extension restarts it by itself, tells the
page (`agent-restarted`), drops the env of connections that died with it, and no request hangs."""

import asyncio
import json
import os
import signal

from conftest import RAY
from test_handlers import wait_for


def listen(service):
    events: list[dict] = []
    service.listen(events.append)
    return events


async def test_killed_agent_is_restarted_without_a_request(call, service, clean_ray_env):
    await call("beginSignIn", "context:fake", {"method": "token", "token": "good-token"})
    await call("connect", RAY, {})
    assert service.env_state()["active"] == RAY
    events = listen(service)
    first = service.agent.pid

    os.kill(first, signal.SIGKILL)

    # nobody calls: the watcher restarts it
    await wait_for(lambda: service.agent.running and service.agent.pid != first, "a new agent")
    assert service.agent.starts == 2
    await wait_for(lambda: any(e["type"] == "agent-restarted" for e in events), "agent-restarted event")
    restarted = next(e for e in events if e["type"] == "agent-restarted")
    assert restarted["exitCode"] == -signal.SIGKILL
    # the port-forward died with the agent: kernels must not keep its env
    await wait_for(lambda: any(e["type"] == "env-changed" and e["active"] is None for e in events), "env dropped")
    assert service.env_state()["active"] is None and service.book.wanted() == {}
    # the new agent answers, with its own (memory-only) state: signed out, no connections
    clusters = (await call("listClusters"))["result"]
    assert clusters[0]["signIn"]["status"] == "signed-out"
    assert (await call("listConnections"))["result"] == []


async def test_request_in_flight_when_the_agent_dies_fails_at_once_with_the_fix(call, service):
    await call("listClusters")
    pid = service.agent.pid
    pending = asyncio.ensure_future(service.agent.request("testSleep", [60]))
    await asyncio.sleep(0.3)
    os.kill(pid, signal.SIGKILL)
    try:
        await asyncio.wait_for(pending, 10)  # not the 60 s of the call, nor the 600 s request timeout
        raise AssertionError("the request did not fail")
    except Exception as e:  # noqa: BLE001 - asserting on the type below
        from ray_connect_jupyterlab.agent import AgentError

        assert isinstance(e, AgentError), repr(e)
        assert e.code == "AGENT_UNAVAILABLE" and e.status == 503
        assert "stopped (exit code -9)" in e.message
        assert "sign in again" in (e.fix or "")
    await wait_for(lambda: service.agent.running and service.agent.pid != pid, "a new agent")
    assert (await call("listClusters"))["result"][0]["id"] == "context:fake"


async def test_browser_stream_gets_agent_restarted(jp_fetch, jp_base_url, jp_http_port, jp_auth_header, service):
    from tornado.httpclient import AsyncHTTPClient, HTTPRequest

    chunks: list[bytes] = []
    url = f"http://127.0.0.1:{jp_http_port}{jp_base_url}ray-connect/events"
    req = HTTPRequest(url, headers=jp_auth_header, streaming_callback=chunks.append, request_timeout=0)
    fetch = asyncio.ensure_future(AsyncHTTPClient(force_instance=True).fetch(req, raise_error=False))
    try:
        await wait_for(lambda: any(b"heartbeat" in c for c in chunks), "stream open")
        os.kill(service.agent.pid, signal.SIGKILL)
        await wait_for(lambda: b"agent-restarted" in b"".join(chunks), "agent-restarted on the browser stream")
        text = b"".join(chunks).decode()
        events = [json.loads(line[5:]) for line in text.splitlines() if line.startswith("data:")]
        assert {"type": "agent-restarted", "exitCode": -9} in events
    finally:
        fetch.cancel()


async def test_stopped_agent_is_not_restarted_and_tells_nobody(call, service):
    await call("listClusters")
    events = listen(service)
    proc = service.agent._proc
    await service.agent.stop()
    await asyncio.sleep(1.5)
    assert proc.returncode is not None and not service.agent.running
    assert service.agent.starts == 1
    assert not [e for e in events if e["type"] == "agent-restarted"]


async def test_crash_loop_backs_off_and_recovers(call, service, monkeypatch):
    """An agent that dies at once when started is retried (with a growing pause), never in a tight loop."""
    await call("listClusters")
    good = service.agent._command
    service.agent._command = lambda: ["/bin/sh", "-c", "exit 7"]
    os.kill(service.agent.pid, signal.SIGKILL)
    await asyncio.sleep(2.5)
    assert 2 <= service.agent.starts <= 4  # 1 s, then 2 s between tries
    service.agent._command = good
    await wait_for(lambda: service.agent.running, "recovered agent")
    assert (await call("listClusters"))["result"][0]["id"] == "context:fake"


async def test_request_in_flight_when_the_server_stops_says_so(call, service):
    await call("listClusters")
    pending = asyncio.ensure_future(service.agent.request("testSleep", [60]))
    await asyncio.sleep(0.3)
    await service.agent.stop()
    from ray_connect_jupyterlab.agent import AgentError

    try:
        await asyncio.wait_for(pending, 10)
        raise AssertionError("the request did not fail")
    except AgentError as e:
        assert e.status == 503 and "shutting down" in e.message
