"""Where the Ray env goes: the kernels and terminals this Jupyter server starts, never the server's own environment.

Host-free (duck-typed, no Jupyter imports): these two classes are the only places that know about Jupyter's kernel
manager (jupyter_server MappingKernelManager over jupyter_client) and terminal manager (jupyter_server_terminals over
terminado). Why wrapping the managers' methods on their instances (ARCHITECTURE.md, "Kernel and terminal env"):
- POST /api/kernels and /api/sessions take no env. The session manager passes `env={**os.environ, ...}` to
  `kernel_manager.start_kernel`, POST /api/kernels passes none; jupyter_client keeps it in `_launch_args` (what a
  restart reuses, what `update_env` changes) and hands it to the provisioner's `pre_launch` (`kwargs["env"]`,
  `os.environ` when absent). Wrapping `start_kernel` to pass `env={**given or os.environ, **ray}` serves every
  kernelspec and every provisioner, without configuring a kernel manager class or a provisioner (a deployment may
  have its own of either; neither can be set by a server extension after the server started).
- terminado builds each terminal's env from `os.environ` + the manager's `extra_env` + the `extra_env` passed to
  `new_terminal`: wrapping `new_terminal` adds the Ray env to that one process.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import os
import queue
import time
import uuid
from collections.abc import Mapping
from typing import Any, Callable

from .env import EnvBook, EnvPlan

REPLY_SECONDS = 120.0  # a busy kernel runs the update after its current cell: wait that long for its reply
_RESULT = "__ray_connect_result"


def env_code(plan: EnvPlan) -> str:
    """Python that makes os.environ hold `plan`. It never raises (a traceback would show this code, token included,
    to every page attached to the kernel): it stores 'ok' or the exception's name in a variable that the request's
    user_expressions read and remove. Values travel as a JSON string literal (also a valid Python literal)."""
    payload = json.dumps(json.dumps({"set": plan.set, "unset": list(plan.unset)}))
    return "\n".join(
        [
            "def __ray_connect_env(p):",
            "    try:",
            "        import json, os",
            "        d = json.loads(p)",
            "        os.environ.update(d['set'])",
            "        for k in d['unset']:",
            "            os.environ.pop(k, None)",
            "        return 'ok'",
            "    except BaseException as e:",
            "        return type(e).__name__",
            f"{_RESULT} = __ray_connect_env({payload})",
            "del __ray_connect_env",
        ]
    )


async def _maybe_await(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


class JupyterKernelEnv:
    """New kernels of any kernelspec get the env at launch; running Python kernels (the kernelspec's language, as
    VS Code checks) get it by a silent execute from this server (the page never sees it); restarts keep it
    (`update_env`). Other languages cannot be updated while they run: they are counted as skipped."""

    def __init__(
        self,
        kernel_manager: Any,
        book: EnvBook,
        on_change: Callable[[], None] = lambda: None,
        log: logging.Logger | None = None,
        base: Mapping[str, str] | None = None,
    ):
        self.km = kernel_manager
        self.book = book
        self.on_change = on_change
        self.log = log or logging.getLogger("ray_connect_jupyterlab")
        self.base = os.environ if base is None else base  # read only: what kernels inherit besides our env
        self._holds: dict[str, int] = {}  # kernel id -> book generation its process holds (kernels we gave env)
        self._dirty: set[str] = set()
        self._workers: dict[str, asyncio.Future] = {}
        self._update_env = kernel_manager.update_env
        self._wrap()

    # ---- the kernel manager's methods, wrapped on this instance
    def _wrap(self) -> None:
        km, start, restart, update_env = self.km, self.km.start_kernel, self.km.restart_kernel, self._update_env

        async def start_kernel(*args: Any, **kwargs: Any) -> Any:
            existing = kwargs.get("kernel_id")
            if existing is not None and existing in km:  # the manager hands back the running kernel
                return await _maybe_await(start(*args, **kwargs))
            generation, wanted = self.book.generation, self.book.wanted()
            given = kwargs.get("env")
            kwargs["env"] = {**(given if isinstance(given, dict) else self.base), **wanted}
            kernel_id = await _maybe_await(start(*args, **kwargs))
            if wanted:
                self._holds[kernel_id] = generation
            if self.book.generation != generation:  # changed while it started
                self._refresh(kernel_id)
            self.on_change()
            return kernel_id

        async def restart_kernel(kernel_id: str, *args: Any, **kwargs: Any) -> Any:
            generation = self.book.generation
            result = await _maybe_await(restart(kernel_id, *args, **kwargs))
            if kernel_id in self._holds or self.book.wanted():
                self._holds[kernel_id] = generation  # a restart launches with the current launch env
            self.on_change()
            return result

        def wrapped_update_env(*, kernel_id: str, env: dict[str, str]) -> None:
            # The session manager calls this with {**os.environ, ...} when a notebook is renamed: keep ours on top.
            update_env(kernel_id=kernel_id, env={**env, **self.book.wanted()})

        km.start_kernel = start_kernel
        km.restart_kernel = restart_kernel
        km.update_env = wrapped_update_env

    # ---- the book changed
    def apply(self) -> None:
        wanted = bool(self.book.wanted())
        for kernel_id in self._running():
            if wanted or kernel_id in self._holds:
                self._refresh(kernel_id)

    def counts(self) -> dict[str, int]:
        running = set(self._running())
        for kernel_id in [k for k in self._holds if k not in running]:
            del self._holds[kernel_id]
        if not self.book.wanted():
            return {"kernels": 0, "skippedKernels": 0}
        current = {k for k in running if self._holds.get(k) == self.book.generation}
        skipped = sum(1 for k in running - current if not self._is_python(k))
        return {"kernels": len(current), "skippedKernels": skipped}

    async def stop(self) -> None:
        for task in list(self._workers.values()):
            task.cancel()

    # ---- one kernel
    def _refresh(self, kernel_id: str) -> None:
        """Restarts get the env at once (launch env); the running process by a silent execute, in the background,
        one at a time per kernel, always with the book's latest state."""
        plan = self.book.plan(self.base)
        try:
            self._update_env(kernel_id=kernel_id, env=dict(plan.set))
            launch_env = (getattr(self.km.get_kernel(kernel_id), "_launch_args", None) or {}).get("env")
        except KeyError:
            return
        if isinstance(launch_env, dict):
            for key in plan.unset:
                launch_env.pop(key, None)
        if not self._is_python(kernel_id):
            return
        self._dirty.add(kernel_id)
        if kernel_id not in self._workers:
            self._workers[kernel_id] = asyncio.ensure_future(self._work(kernel_id))

    async def _work(self, kernel_id: str) -> None:
        try:
            while kernel_id in self._dirty:
                self._dirty.discard(kernel_id)
                generation, plan = self.book.generation, self.book.plan(self.base)
                outcome = await self._execute(kernel_id, env_code(plan))
                if outcome == "ok":
                    self._holds[kernel_id] = generation
                else:
                    self.log.warning("Ray Connect: could not update the env of kernel %s: %s", kernel_id, outcome)
                self.on_change()
        finally:
            self._workers.pop(kernel_id, None)

    async def _execute(self, kernel_id: str, code: str) -> str:
        """Runs `code` silently (no execute_input/result on iopub, no history) through a client of our own."""
        try:
            client = self.km.get_kernel(kernel_id).client()
        except KeyError:
            return "the kernel is gone"
        # The client's session is a clone of the manager's: same session id, so the same zmq identity (the kernel
        # would route our reply to another client of that session) and message ids counted from 0 again.
        client.session.session = uuid.uuid4().hex
        client.start_channels(shell=True, iopub=False, stdin=False, hb=False, control=False)
        try:
            msg_id = client.execute(
                code,
                silent=True,
                store_history=False,
                allow_stdin=False,
                user_expressions={"r": f"globals().pop({_RESULT!r}, None)"},
            )
            deadline = time.monotonic() + REPLY_SECONDS
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    return f"no reply in {REPLY_SECONDS:.0f} s (busy or not running)"
                try:
                    reply = await _maybe_await(client.get_shell_msg(timeout=left))
                except queue.Empty:
                    continue  # the deadline passed: said above
                except Exception as e:  # noqa: BLE001 - the channel closed under us (kernel shut down)
                    return f"the kernel's channel failed ({type(e).__name__})"
                if reply.get("parent_header", {}).get("msg_id") == msg_id:
                    break
            content = reply.get("content", {})
            if content.get("status") != "ok":
                return f"status {content.get('status')}"
            result = content.get("user_expressions", {}).get("r")
            if result is None:  # a kernel without user_expressions: the code itself cannot fail
                return "ok"
            text = result.get("data", {}).get("text/plain", "")
            return "ok" if text.strip("'\"") == "ok" else f"failed ({text or result.get('ename')})"
        finally:
            client.stop_channels()

    def _running(self) -> list[str]:
        return list(self.km.list_kernel_ids())

    def _is_python(self, kernel_id: str) -> bool:
        try:
            language = self.km.get_kernel(kernel_id).kernel_spec.language
        except Exception:  # noqa: BLE001 - no such kernel, or its kernelspec was removed
            return False
        return str(language or "").lower() == "python"


class JupyterTerminalEnv:
    """Terminals created while a connection is active get the env in their own process. A terminal's env cannot
    change after it started: those of an older env (before a rotation or a disconnect) are not counted."""

    def __init__(self, terminal_manager: Any, book: EnvBook, on_change: Callable[[], None] = lambda: None):
        self.tm = terminal_manager
        self.book = book
        self.on_change = on_change
        self._holds: dict[int, int] = {}  # id(terminal) -> generation it started with
        new_terminal = terminal_manager.new_terminal

        def wrapped(**kwargs: Any) -> Any:
            generation, wanted = self.book.generation, self.book.wanted()
            if wanted:
                extra = kwargs.get("extra_env")
                kwargs["extra_env"] = {**wanted, **(extra if isinstance(extra, dict) else {})}
            term = new_terminal(**kwargs)
            if wanted:
                self._holds[id(term)] = generation
            try:  # counted once the manager has named it (after this returns)
                asyncio.get_running_loop().call_soon(self.on_change)
            except RuntimeError:
                pass
            return term

        terminal_manager.new_terminal = wrapped

    def apply(self) -> None:
        """Nothing to do: running terminals keep their env, new ones read the book."""

    def counts(self) -> dict[str, int]:
        live = {id(t) for t in getattr(self.tm, "terminals", {}).values()}
        for key in [k for k in self._holds if k not in live]:
            del self._holds[key]
        if not self.book.wanted():
            return {"terminals": 0}
        return {"terminals": sum(1 for g in self._holds.values() if g == self.book.generation)}

    async def stop(self) -> None:
        pass
