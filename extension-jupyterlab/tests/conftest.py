import json
import sys
from pathlib import Path

import pytest

pytest_plugins = ("pytest_jupyter.jupyter_server",)

FAKE_AGENT = str(Path(__file__).parent / "fake_agent.py")


@pytest.fixture
def agent_env(monkeypatch):
    """Env for the fake agent (FAKE_AGENT_VERSION etc.); the agent inherits the server's environ."""
    return monkeypatch


@pytest.fixture
def jp_server_config():
    return {
        "ServerApp": {"jpserver_extensions": {"ray_connect_jupyterlab": True}},
        "RayConnectApp": {"agent_command": [sys.executable, FAKE_AGENT]},
    }


@pytest.fixture
def service(jp_serverapp, jp_asyncio_loop):
    svc = jp_serverapp.web_app.settings["ray_connect"]
    yield svc
    jp_asyncio_loop.run_until_complete(svc.stop())


@pytest.fixture
def clean_ray_env(monkeypatch):
    for key in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH", "RAY_ADDRESS"):
        monkeypatch.delenv(key, raising=False)


@pytest.fixture
def call(jp_fetch):
    async def _call(method, *args, expect=200):
        r = await jp_fetch("ray-connect", "call", method, method="POST", body=json.dumps({"args": list(args)}), raise_error=False)
        assert r.code == expect, r.body
        return json.loads(r.body)

    return _call


RAY = {"clusterId": "context:fake", "namespace": "team-a", "name": "raycluster-token"}
