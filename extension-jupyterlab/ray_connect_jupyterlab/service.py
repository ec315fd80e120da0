"""The server side of Ray Connect, host-free: the agent, the env book, and what happens after a call.

Handlers (handlers.py) only translate HTTP to these methods. `EnvTarget`s (processes.py: kernels, terminals) are the
only places that know about Jupyter's managers, passed in so tests can give fakes.
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any, Callable, Protocol

from ._version import PROTOCOL_VERSION, __version__
from .agent import PIP_FIX, AgentError, AgentProcess
from .env import EnvBook, ref_key


class EnvTarget(Protocol):
    """Processes of this server that get the Ray env (kernels, terminals)."""

    def apply(self) -> None:
        """The env handed out changed: bring running processes up to date (may finish in the background)."""

    def counts(self) -> dict[str, int]:
        """How many processes hold the current env (names: kernels, skippedKernels, terminals)."""

    async def stop(self) -> None: ...


class RayConnectService:
    # How browser sign-in comes back when the page is not on this host (RayConnectApp.browser_redirect).
    browser_redirect = "auto"

    def __init__(
        self,
        agent: AgentProcess,
        book: EnvBook | None = None,
        log: logging.Logger | None = None,
    ):
        self.agent = agent
        self.book = book or EnvBook()
        self.targets: list[EnvTarget] = []
        self.log = log or logging.getLogger("ray_connect_jupyterlab")
        self._browser_listeners: list[Callable[[dict], None]] = []
        self._unsubscribe = agent.subscribe(self._on_agent_event)
        self._env_lock = asyncio.Lock()

    # ---- handshake
    async def version(self, frontend_version: str | None) -> dict:
        out: dict[str, Any] = {
            "server": {"version": __version__, "protocol": PROTOCOL_VERSION},
            "inPod": bool(os.environ.get("KUBERNETES_SERVICE_HOST")),
            "inject": self.book.enabled,
            "browserRedirect": self.browser_redirect,
        }
        if frontend_version and frontend_version != __version__:
            raise AgentError(
                "VERSION_MISMATCH",
                f"The Ray Connect page ({frontend_version}) and the Jupyter server extension ({__version__}) differ.",
                PIP_FIX + " and restart Jupyter, then reload this page",
                409,
            )
        out["agent"] = await self.agent.handshake()
        if out["agent"]["version"] and out["agent"]["version"] != __version__:
            raise AgentError(
                "VERSION_MISMATCH",
                f"The Ray Connect agent ({out['agent']['version']}) and the Jupyter server extension ({__version__}) differ.",
                PIP_FIX + " and restart Jupyter",
                409,
            )
        return out

    # ---- calls, with env bookkeeping after the ones that change connections
    async def call(self, method: str, args: list[Any]) -> tuple[int, dict]:
        status, body = await self.agent.request(method, args)
        if status < 400 and "error" not in body:
            try:
                await self._after(method, args, body.get("result"))
            except AgentError as e:
                self.log.warning("Ray Connect: could not update the kernel env after %s: %s", method, e.message)
        return status, body

    async def _after(self, method: str, args: list[Any], result: Any) -> None:
        if method == "connect" and args and isinstance(args[0], dict):
            await self.refresh_env(args[0])
        elif method == "disconnect" and args and isinstance(args[0], dict):
            await self._change(self.book.remove(args[0]))
        elif method in ("signOut", "removeCluster") and args and isinstance(args[0], str):
            await self._change(self.book.remove_cluster(args[0]))

    async def refresh_env(self, ref: dict) -> None:
        async with self._env_lock:
            env = await self.agent.call("sessionEnv", ref)
            change = self.book.set(ref, env.get("env", {}), int(env.get("tokenVersion", 0)))
        await self._change(change)

    async def set_inject(self, enabled: bool) -> None:
        await self._change(self.book.set_enabled(enabled))

    def reapply_env(self) -> dict:
        """Applies the current env to running kernels again (one was busy too long, say); returns the state."""
        if self.book.wanted():
            for target in self.targets:
                target.apply()
        return self.env_state()

    def add_target(self, target: EnvTarget) -> None:
        self.targets.append(target)

    async def _change(self, changed: bool) -> None:
        if not changed:
            return
        for target in self.targets:
            target.apply()
        self.log.info("Ray Connect env: %s", f"keys {sorted(self.book.wanted())}" if self.book.wanted() else "none")
        self.env_counts_changed()

    def env_counts_changed(self) -> None:
        """The env, or how many kernels and terminals hold it, changed: tell the pages (no values)."""
        self.emit({"type": "env-changed", **self.env_state()})

    def env_state(self) -> dict:
        """What the page may know: the active connection, the names of the keys handed out, counts. Never a value."""
        active = self.book.active()
        wanted = self.book.wanted()
        counts = {"kernels": 0, "skippedKernels": 0, "terminals": 0}
        for target in self.targets:
            counts.update(target.counts())
        return {
            "active": active["ref"] if active and wanted else None,
            "keys": sorted(wanted),
            "tokenVersion": active["tokenVersion"] if active and wanted else None,
            "inject": self.book.enabled,
            **counts,
        }

    # ---- events: one stream from the agent, fanned out to browsers; env kept fresh from it
    def listen(self, listener: Callable[[dict], None]) -> Callable[[], None]:
        """Events for one page, starting with the current env state (names and counts): a page whose stream
        reopened (server restarted, network back) is up to date without asking."""
        self._browser_listeners.append(listener)
        listener({"type": "env-changed", **self.env_state()})
        return lambda: self._browser_listeners.remove(listener) if listener in self._browser_listeners else None

    def emit(self, event: dict) -> None:
        for listener in list(self._browser_listeners):
            listener(event)

    async def _on_agent_event(self, event: dict) -> None:
        self.emit(event)
        kind = event.get("type")
        try:
            if kind == "agent-restarted":
                # The connections (port-forwards) lived in the dead agent: kernels must not keep an env that points
                # at them. The page reloads clusters and sign-ins from the new agent on this event.
                self.log.warning("Ray Connect agent restarted (it exited with code %s): connections closed", event.get("exitCode"))
                await self._change(self.book.clear())
            elif kind == "connection-changed":
                conn = event.get("connection") or {}
                if conn.get("state") == "disconnected":
                    await self._change(self.book.remove(conn))
                elif conn.get("state") == "ready" and ref_key(conn) in {ref_key(r) for r in self.book.refs()}:
                    if self.book.token_version(conn) != conn.get("tokenVersion"):
                        await self.refresh_env(conn)
            elif kind == "token-rotated":
                ref = event.get("ref") or {}
                if ref and ref_key(ref) in {ref_key(r) for r in self.book.refs()}:
                    await self.refresh_env(ref)
            elif kind == "sign-in-changed":
                state = (event.get("state") or {}).get("status")
                if state in ("signed-out", "expired") and event.get("clusterId"):
                    await self._change(self.book.remove_cluster(event["clusterId"]))
        except AgentError as e:
            self.log.warning("Ray Connect: env update after %s failed: %s", kind, e.message)

    async def start(self) -> None:
        try:
            await self.agent.ensure()
        except AgentError as e:
            self.log.error("Ray Connect agent unavailable: %s Fix: %s", e.message, e.fix or "-")

    async def stop(self) -> None:
        self._unsubscribe()
        self.book.clear()
        for target in self.targets:
            await target.stop()
        await self.agent.stop()
