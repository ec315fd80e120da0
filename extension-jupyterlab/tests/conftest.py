import json
import os
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


@pytest.fixture(autouse=True)
def token_never_in_server_environ(monkeypatch):
    """Across every test: nothing writes a Ray token of the fake agent into the server's own environment (every
    os.environ write goes through os.putenv), and it is not there at the end."""
    writes: list[str] = []
    real_putenv = os.putenv

    def putenv(key, value):
        if "fake-token" in (value.decode() if isinstance(value, bytes) else str(value)):
            writes.append(key.decode() if isinstance(key, bytes) else str(key))
        real_putenv(key, value)

    monkeypatch.setattr(os, "putenv", putenv)
    yield
    assert writes == [], f"the server's os.environ got a token in {writes}"
    assert not [k for k, v in os.environ.items() if "fake-token" in v], "a token is in the server's os.environ"


@pytest.fixture
def other_kernelspecs(jp_kernel_dir):
    """A second Python kernelspec (`python-other`) and a non-Python one (`echo`, pytest-jupyter's echo kernel)."""
    specs = {
        "python-other": {"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"], "display_name": "Other Python", "language": "python"},
        "echo": {"argv": [sys.executable, "-m", "pytest_jupyter.echo_kernel", "-f", "{connection_file}"], "display_name": "echo", "language": "echo"},
    }
    for name, spec in specs.items():
        (Path(jp_kernel_dir) / name).mkdir(parents=True, exist_ok=True)
        (Path(jp_kernel_dir) / name / "kernel.json").write_text(json.dumps(spec))
    return list(specs)


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
