"""`ray-connect` on the Jupyter host: the CLI bundled in this package, run with the Node the agent uses.

In a JupyterLab terminal of a pip-installed extension there is no npm `ray-connect`; this console script runs the
same bundle as the agent (`agent/ray-connect.mjs`), so a terminal and the panel speak one version. With no OS
keychain the CLI uses the running agent's sign-ins (see packages/cli/src/agent/discovery.ts).
"""

from __future__ import annotations

import os
import subprocess
import sys

from .agent import PIP_FIX, AgentError, bundled_agent, find_node


def command(argv: list[str]) -> list[str]:
    """The argv that runs the bundled CLI: [node, ray-connect.mjs, *argv]. Raises AgentError when one is missing."""
    js = bundled_agent()
    if not js.is_file():
        raise AgentError("AGENT_UNAVAILABLE", f"The ray-connect command is missing from this installation ({js}).", PIP_FIX)
    return [find_node(), str(js), *argv]


def main() -> None:
    try:
        cmd = command(sys.argv[1:])
    except AgentError as e:
        sys.stderr.write(f"ray-connect: {e.message}\n" + (f"  fix: {e.fix}\n" if e.fix else ""))
        sys.exit(1)
    if os.name == "posix":
        # Replace this process: signals (Ctrl-C during `connect`), stdin (`login --token-stdin`) and the exit code
        # are the CLI's own.
        os.execv(cmd[0], cmd)
    sys.exit(subprocess.call(cmd))


if __name__ == "__main__":
    main()
