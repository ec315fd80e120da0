"""Which Ray env this Jupyter server hands to kernels and terminals. Host-free.

EnvBook keeps, per connected Ray cluster, the env the agent gave (RAY_AUTH_MODE, RAY_AUTH_TOKEN, RAY_ADDRESS); the
most recent connection is the active one. It never writes the server's own environment (`os.environ`): the env goes
only into the processes the server starts for the user (kernels, terminals) and into running Python kernels, by
the code in kernels.py. Values are secrets: never logged, never persisted, never sent to the page.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .protocol import RAY_ENV_KEYS as RAY_KEYS


def ref_key(ref: dict) -> str:
    return f"{ref['clusterId']}/{ref['namespace']}/{ref['name']}"


@dataclass(frozen=True)
class EnvPlan:
    """What a process that got the Ray env must hold now: these keys set, those removed."""

    set: dict[str, str]
    unset: tuple[str, ...]

    def __repr__(self) -> str:  # never the values
        return f"EnvPlan(set={sorted(self.set)}, unset={list(self.unset)})"


class EnvBook:
    def __init__(self) -> None:
        self._connections: dict[str, dict] = {}  # key -> {ref, env, tokenVersion}; insertion order = age
        self._handed: set[str] = set(RAY_KEYS)  # every key ever handed out: what a removal takes back
        self.enabled = True
        self.generation = 0  # bumped whenever wanted() changes: "does this process hold the current env?"
        self._wanted: dict[str, str] = {}

    # ---- queries
    def active(self) -> dict | None:
        if not self._connections:
            return None
        return list(self._connections.values())[-1]

    def token_version(self, ref: dict) -> int | None:
        entry = self._connections.get(ref_key(ref))
        return entry["tokenVersion"] if entry else None

    def refs(self) -> list[dict]:
        return [c["ref"] for c in self._connections.values()]

    def wanted(self) -> dict[str, str]:
        """The env new kernels and terminals get now ({} when nothing is connected or injection is off)."""
        return dict(self._wanted)

    def plan(self, base: Mapping[str, str]) -> EnvPlan:
        """For a process that got the env before: the wanted env, and every other key we ever handed out put back
        to what the server's own environment (`base`, what the process inherited at launch) holds, or removed."""
        out = {k: base[k] for k in sorted(self._handed) if k in base}
        out.update(self._wanted)
        return EnvPlan(out, tuple(k for k in sorted(self._handed) if k not in out))

    # ---- changes (each returns whether the env handed out changed)
    def set(self, ref: dict, env: dict[str, str], token_version: int = 0) -> bool:
        key = ref_key(ref)
        clean = {k: str(v) for k, v in env.items() if k.startswith("RAY_")}
        self._connections.pop(key, None)
        self._connections[key] = {
            "ref": {"clusterId": ref["clusterId"], "namespace": ref["namespace"], "name": ref["name"]},
            "env": clean,
            "tokenVersion": token_version,
        }
        return self._update()

    def remove(self, ref: dict) -> bool:
        self._connections.pop(ref_key(ref), None)
        return self._update()

    def remove_cluster(self, cluster_id: str) -> bool:
        for key in [k for k, c in self._connections.items() if c["ref"]["clusterId"] == cluster_id]:
            del self._connections[key]
        return self._update()

    def clear(self) -> bool:
        self._connections.clear()
        return self._update()

    def set_enabled(self, enabled: bool) -> bool:
        self.enabled = enabled
        return self._update()

    def _update(self) -> bool:
        active = self.active()
        wanted = dict(active["env"]) if (active and self.enabled) else {}
        if wanted == self._wanted:
            return False
        self._handed.update(wanted)
        self._wanted = wanted
        self.generation += 1
        return True
