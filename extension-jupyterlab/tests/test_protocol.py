"""The Python side speaks the protocol of protocol.json (written from shared/src/protocol.ts) and names nothing
outside it. shared/src/protocolJson.test.ts checks the other half: protocol.json is what the TypeScript generates."""

import ast
import json
import re
from pathlib import Path

from ray_connect_jupyterlab import _version, agent, env, handlers, protocol
from ray_connect_jupyterlab.agent import AgentError

PACKAGE = Path(protocol.__file__).parent
DATA = json.loads((PACKAGE / "protocol.json").read_text(encoding="utf-8"))


def test_constants_come_from_protocol_json():
    assert handlers.AGENT_METHODS == frozenset(DATA["methods"])
    assert _version.PROTOCOL_VERSION == agent.PROTOCOL_VERSION == DATA["protocolVersion"]
    assert agent.AGENT_SECRET_ENV == DATA["agentSecretEnv"]
    assert env.RAY_KEYS == tuple(DATA["rayEnvKeys"])
    assert protocol.MAX_BODY_BYTES == DATA["maxBodyBytes"]
    assert protocol.ERROR_STATUS == DATA["errors"]


def test_protocol_json_holds_the_whole_protocol():
    assert {"version", "connect", "sessionEnv"} <= set(DATA["methods"])
    assert {"RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH", "RAY_ADDRESS"} == set(DATA["rayEnvKeys"])
    assert DATA["errors"]["BAD_REQUEST"] == 400 and DATA["errors"]["VERSION_MISMATCH"] == 409


def test_agent_error_takes_its_status_from_the_table():
    assert AgentError("VERSION_MISMATCH", "m").status == 409
    assert AgentError("AGENT_UNAVAILABLE", "m").status == 502
    assert AgentError("NOT_A_CODE", "m").status == 500
    assert AgentError("AGENT_UNAVAILABLE", "m", None, 503).status == 503


def _agent_error_codes(source: str) -> list[tuple[int, str]]:
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "AgentError" and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                out.append((node.lineno, first.value))
    return out


def test_every_error_code_the_package_raises_is_in_the_protocol():
    unknown = [
        f"{path.name}:{line} {code}"
        for path in sorted(PACKAGE.glob("*.py"))
        for line, code in _agent_error_codes(path.read_text(encoding="utf-8"))
        if code not in DATA["errors"]
    ]
    assert unknown == []


def test_the_scan_finds_an_unknown_code():  # the check above can fail
    codes = _agent_error_codes('raise AgentError("NO_SUCH_CODE", "m")')
    assert codes == [(1, "NO_SUCH_CODE")] and codes[0][1] not in DATA["errors"]


def test_the_fake_agent_answers_only_protocol_methods():
    fake = (Path(__file__).parent / "fake_agent.py").read_text(encoding="utf-8")
    answered = {m for m in re.findall(r'method == "(\w+)"', fake) if not m.startswith("test")}  # test* hooks
    assert answered and answered <= set(DATA["methods"])
