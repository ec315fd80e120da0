"""The agent protocol (shared/src/protocol.ts), read from protocol.json.

protocol.json is written from the TypeScript definitions by scripts/write-protocol-json.mjs at build time and
committed (shared/src/protocolJson.test.ts fails when it is stale); the wheel ships it beside this module.
Nothing here is typed by hand: a constant the Python side needs from the protocol comes from this module.
"""

from __future__ import annotations

import json
from importlib.resources import files
from typing import Any

_DATA: dict[str, Any] = json.loads(files(__package__).joinpath("protocol.json").read_text(encoding="utf-8"))

PROTOCOL_VERSION: int = int(_DATA["protocolVersion"])
AGENT_SECRET_ENV: str = str(_DATA["agentSecretEnv"])
MAX_BODY_BYTES: int = int(_DATA["maxBodyBytes"])
# The methods callable over /v1/call/<method>.
AGENT_METHODS: frozenset[str] = frozenset(_DATA["methods"])
# Every error code (shared/src/errors.ts) with its HTTP status (httpStatusFor).
ERROR_STATUS: dict[str, int] = {str(code): int(status) for code, status in _DATA["errors"].items()}
# The env a connected kernel or terminal gets: RAY_AUTH_MODE, RAY_AUTH_TOKEN, RAY_AUTH_TOKEN_PATH, RAY_ADDRESS.
RAY_ENV_KEYS: tuple[str, ...] = tuple(_DATA["rayEnvKeys"])


def status_for(code: str) -> int:
    """The HTTP status for an error code: the table of httpStatusFor; 500 for a code it does not know."""
    return ERROR_STATUS.get(code, 500)
