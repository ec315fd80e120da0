"""The Ray env in real kernels and terminals of a real jupyter_server (issue 14 item 3): given per process at launch
(any kernelspec), to running Python kernels by the server itself, never through the server's os.environ (the
autouse fixture `token_never_in_server_environ` checks every write) and never to the page."""

import ast
import json
import time
import uuid
from pathlib import Path

from conftest import RAY
from test_handlers import wait_for

TOKEN = "RAY_AUTH_TOKEN"


async def kernel_environ(km, kernel_id: str) -> dict:
    """The RAY_* variables a running kernel's os.environ holds now, asked through a kernel client of our own."""
    client = km.get_kernel(kernel_id).client()
    client.session.session = uuid.uuid4().hex  # its own identity and message ids (see processes.py)
    client.start_channels(shell=True, iopub=False, stdin=False, hb=False, control=False)
    try:
        expr = "{k: v for k, v in __import__('os').environ.items() if k.startswith('RAY_')}"
        msg_id = client.execute("", silent=True, store_history=False, user_expressions={"e": expr})
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            reply = await client.get_shell_msg(timeout=deadline - time.monotonic())
            if reply["parent_header"].get("msg_id") == msg_id:
                content = reply["content"]
                assert "e" in content.get("user_expressions", {}), content
                return ast.literal_eval(content["user_expressions"]["e"]["data"]["text/plain"])
        raise AssertionError(f"kernel {kernel_id} did not answer")
    finally:
        client.stop_channels()


async def until_kernel(km, kernel_id: str, predicate, what: str) -> dict:
    deadline = time.monotonic() + 30
    env: dict = {}
    while time.monotonic() < deadline:
        env = await kernel_environ(km, kernel_id)
        if predicate(env):
            return env
    raise AssertionError(f"never happened: {what} (kernel has {sorted(env)})")


def process_environ(pid: int) -> dict:
    """The env a process was started with (its launch env)."""
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    return dict(item.split("=", 1) for item in raw.decode(errors="replace").split("\0") if "=" in item)


def kernel_launch_environ(km, kernel_id: str) -> dict:
    return process_environ(km.get_kernel(kernel_id).provisioner.process.pid)


async def start_kernel(jp_fetch, name: str) -> str:
    r = await jp_fetch("api", "kernels", method="POST", body=json.dumps({"name": name}))
    return json.loads(r.body)["id"]


async def env_state(jp_fetch) -> dict:
    r = await jp_fetch("ray-connect", "env")
    assert b"fake-token" not in r.body
    return json.loads(r.body)


async def test_kernels_of_any_kernelspec_get_the_env_and_running_ones_are_updated_by_the_server(
    call, jp_fetch, jp_serverapp, service, other_kernelspecs, monkeypatch, clean_ray_env
):
    km = jp_serverapp.kernel_manager
    monkeypatch.setenv("RAY_ADDRESS", "http://mine:8265")  # the user's own, in the server's environment
    started: list[str] = []
    sessions: list[str] = []
    try:
        # Before connecting: a Python kernel and a non-Python one.
        before = await start_kernel(jp_fetch, "python3")
        echo_before = await start_kernel(jp_fetch, "echo")
        started += [before, echo_before]
        assert TOKEN not in await kernel_environ(km, before)
        # ... busy with a cell when the connection comes: the server's update runs after it.
        busy = km.get_kernel(before).client()
        busy.session.session = uuid.uuid4().hex
        busy.start_channels(shell=True, iopub=False, stdin=False, hb=False, control=False)
        busy.execute("import time; time.sleep(2)")

        await call("beginSignIn", "context:fake", {"method": "token", "token": "good-token"})
        await call("connect", RAY, {})

        # The running Python kernel gets it from the server (the page has nothing to do with it).
        env = await until_kernel(km, before, lambda e: e.get(TOKEN) == "fake-token-1", "token in the running kernel")
        busy.stop_channels()
        assert env["RAY_ADDRESS"] == "http://127.0.0.1:18265" and env["RAY_AUTH_MODE"] == "token"
        await wait_for(lambda: service.env_state()["kernels"] == 1, "1 kernel counted")
        state = await env_state(jp_fetch)
        assert state["kernels"] == 1 and state["skippedKernels"] == 1  # the echo kernel cannot be updated

        # New kernels of a second kernelspec, through a session and directly, and a non-Python one: at launch.
        r = await jp_fetch(
            "api", "sessions", method="POST", body=json.dumps({"path": "b.ipynb", "type": "notebook", "kernel": {"name": "python-other"}})
        )
        session = json.loads(r.body)
        sessions.append(session["id"])
        in_session = session["kernel"]["id"]
        direct = await start_kernel(jp_fetch, "python-other")
        echo_after = await start_kernel(jp_fetch, "echo")
        started += [direct, echo_after]
        for kernel_id in (in_session, direct, echo_after):
            assert km.get_kernel(kernel_id).kernel_name in ("python-other", "echo")
            assert kernel_launch_environ(km, kernel_id)[TOKEN] == "fake-token-1", kernel_id
        assert (await kernel_environ(km, in_session))[TOKEN] == "fake-token-1"
        assert (await kernel_environ(km, direct))[TOKEN] == "fake-token-1"
        state = await env_state(jp_fetch)
        assert (state["kernels"], state["skippedKernels"]) == (4, 1)

        # A restart keeps it (the launch env was updated: update_env).
        await jp_fetch("api", "kernels", before, "restart", method="POST", body="{}")
        assert kernel_launch_environ(km, before)[TOKEN] == "fake-token-1"
        assert (await kernel_environ(km, before))[TOKEN] == "fake-token-1"

        # Token rotation reaches running kernels.
        await service.agent.call("testRotate")
        await until_kernel(km, before, lambda e: e.get(TOKEN) == "fake-token-2", "rotated token in the kernel")
        await until_kernel(km, in_session, lambda e: e.get(TOKEN) == "fake-token-2", "rotated token in the session kernel")

        # Disconnect: removed from running Python kernels, their restarts, and the user's own RAY_ADDRESS is back.
        await call("disconnect", RAY)
        env = await until_kernel(km, before, lambda e: TOKEN not in e, "token removed from the running kernel")
        assert env == {"RAY_ADDRESS": "http://mine:8265"}
        await until_kernel(km, in_session, lambda e: TOKEN not in e, "token removed from the session kernel")
        await jp_fetch("api", "kernels", in_session, "restart", method="POST", body="{}")
        assert TOKEN not in kernel_launch_environ(km, in_session)
        assert await kernel_environ(km, in_session) == {"RAY_ADDRESS": "http://mine:8265"}
        state = await env_state(jp_fetch)
        assert state["active"] is None and (state["kernels"], state["skippedKernels"]) == (0, 0)
    finally:
        for session_id in sessions:
            await jp_fetch("api", "sessions", session_id, method="DELETE")
        for kernel_id in started:
            await jp_fetch("api", "kernels", kernel_id, method="DELETE", raise_error=False)


async def test_terminals_created_after_connect_have_the_env_in_their_own_process(call, jp_fetch, jp_serverapp, service, clean_ray_env):
    tm = jp_serverapp.web_app.settings["terminal_manager"]
    names: list[str] = []

    async def new_terminal() -> dict:
        r = await jp_fetch("api", "terminals", method="POST", body="{}")
        name = json.loads(r.body)["name"]
        names.append(name)
        return process_environ(tm.terminals[name].ptyproc.pid)

    try:
        assert TOKEN not in await new_terminal()
        await call("beginSignIn", "context:fake", {"method": "token", "token": "good-token"})
        await call("connect", RAY, {})
        env = await new_terminal()
        assert env[TOKEN] == "fake-token-1" and env["RAY_ADDRESS"] == "http://127.0.0.1:18265"
        assert env["JUPYTER_SERVER_ROOT"]  # the manager's own extra_env is kept
        await wait_for(lambda: service.env_state()["terminals"] == 1, "1 terminal counted")
        assert (await env_state(jp_fetch))["terminals"] == 1

        # Injection off: new terminals get nothing; on again: they do.
        await jp_fetch("ray-connect", "env", method="PUT", body='{"inject": false}')
        assert TOKEN not in await new_terminal()
        await jp_fetch("ray-connect", "env", method="PUT", body='{"inject": true}')
        assert (await new_terminal())[TOKEN] == "fake-token-1"

        await call("disconnect", RAY)
        assert TOKEN not in await new_terminal()
        assert (await env_state(jp_fetch))["terminals"] == 0
    finally:
        for name in names:
            await jp_fetch("api", "terminals", name, method="DELETE", raise_error=False)
