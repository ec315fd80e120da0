"""Which Ray env this Jupyter server hands to new kernels and terminals. Host-free.

The server's os.environ is what new kernels and terminals inherit (hosts.md). EnvBook keeps, per connected Ray
cluster, the env the agent gave (RAY_AUTH_MODE, RAY_AUTH_TOKEN, RAY_ADDRESS); the most recent connection is the
active one and is written into `environ`. It remembers what each key held before, so removing puts that back, and
it never touches keys it did not set. Values are secrets: never logged, never persisted.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from dataclasses import dataclass, field

RAY_KEYS = ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH", "RAY_ADDRESS")


def ref_key(ref: dict) -> str:
    return f"{ref['clusterId']}/{ref['namespace']}/{ref['name']}"


@dataclass
class Change:
    """What to do to kernels that already run: set these keys, drop those."""

    set: dict[str, str] = field(default_factory=dict)
    unset: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.set or self.unset)

    def __repr__(self) -> str:  # never the values
        return f"Change(set={sorted(self.set)}, unset={self.unset})"


class EnvBook:
    def __init__(self, environ: MutableMapping[str, str] | None = None):
        self.environ = os.environ if environ is None else environ
        self._connections: dict[str, dict] = {}  # key -> {ref, env, tokenVersion}; insertion order = age
        self._applied: dict[str, str] = {}
        self._saved: dict[str, str | None] = {}
        self.enabled = True

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

    def applied_keys(self) -> list[str]:
        return sorted(self._applied)

    # ---- changes
    def set(self, ref: dict, env: dict[str, str], token_version: int = 0) -> Change:
        key = ref_key(ref)
        clean = {k: str(v) for k, v in env.items() if k.startswith("RAY_")}
        self._connections.pop(key, None)
        self._connections[key] = {
            "ref": {"clusterId": ref["clusterId"], "namespace": ref["namespace"], "name": ref["name"]},
            "env": clean,
            "tokenVersion": token_version,
        }
        return self._apply()

    def remove(self, ref: dict) -> Change:
        self._connections.pop(ref_key(ref), None)
        return self._apply()

    def remove_cluster(self, cluster_id: str) -> Change:
        for key in [k for k, c in self._connections.items() if c["ref"]["clusterId"] == cluster_id]:
            del self._connections[key]
        return self._apply()

    def clear(self) -> Change:
        self._connections.clear()
        return self._apply()

    def set_enabled(self, enabled: bool) -> Change:
        self.enabled = enabled
        return self._apply()

    def _apply(self) -> Change:
        active = self.active()
        wanted = dict(active["env"]) if (active and self.enabled) else {}
        change = Change()
        for k in list(self._applied):
            if k not in wanted:
                before = self._saved.pop(k, None)
                if before is None:
                    self.environ.pop(k, None)
                else:
                    self.environ[k] = before
                del self._applied[k]
                change.unset.append(k)
        for k, v in wanted.items():
            if k not in self._applied:
                self._saved[k] = self.environ.get(k)
            if self._applied.get(k) != v:
                self.environ[k] = v
                self._applied[k] = v
                change.set[k] = v
        # A kernel restarted later must see the whole active env, not only what changed now.
        if change and wanted:
            change.set = dict(wanted)
        return change
