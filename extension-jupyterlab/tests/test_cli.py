"""The `ray-connect` console script: runs the bundled CLI with the agent's Node, or says what is missing."""

import subprocess
import sys
from pathlib import Path

import pytest

from ray_connect_jupyterlab import __version__, cli
from ray_connect_jupyterlab.agent import bundled_agent


def test_runs_the_bundled_cli_with_its_arguments_and_exit_code():
    if not bundled_agent().is_file():
        pytest.skip("no CLI bundle: run pnpm build first")
    ok = subprocess.run([sys.executable, "-m", "ray_connect_jupyterlab.cli", "version"], capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip() == __version__
    bad = subprocess.run([sys.executable, "-m", "ray_connect_jupyterlab.cli", "no-such-verb"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2
    assert "unknown command no-such-verb" in bad.stderr


def test_missing_bundle_says_so_with_the_pip_fix(monkeypatch, capsys, tmp_path: Path):
    monkeypatch.setattr(cli, "bundled_agent", lambda: tmp_path / "none.mjs")
    monkeypatch.setattr(sys, "argv", ["ray-connect", "whoami"])
    with pytest.raises(SystemExit) as exit_info:
        cli.main()
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert "ray-connect command is missing" in err and "pip install" in err


def test_console_script_is_declared():
    text = (Path(__file__).parent.parent / "pyproject.toml").read_text()
    assert 'ray-connect = "ray_connect_jupyterlab.cli:main"' in text
