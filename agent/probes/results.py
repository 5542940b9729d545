"""Probe kinds and their results by container ID (kubelet's pkg/kubelet/prober/results).

One `Results` cache per probe kind holds the decided result of each container
instance: workers write it, the pod sync reads it. Keyed by container ID, so a
restarted container (a new ID) never inherits its predecessor's result. Every
change calls `on_change(pod_uid)`, the kubelet's results-manager update
channel that wakes the pod's sync.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum


class ProbeType(StrEnum):
    LIVENESS = "Liveness"
    READINESS = "Readiness"
    STARTUP = "Startup"

    @property
    def field(self) -> str:
        """The container's field: `livenessProbe`, `readinessProbe`, `startupProbe`."""
        return f"{self.value.lower()}Probe"


# A worker's result for a new container until a probe decides (the kubelet's initialValue):
# not ready, alive, startup unknown (None: no entry).
INITIAL: dict[ProbeType, bool | None] = {
    ProbeType.READINESS: False, ProbeType.LIVENESS: True, ProbeType.STARTUP: None}


class Results:
    """One kind's results by container ID (kubelet's results.Manager); changes call back."""

    def __init__(self, on_change: Callable[[str], None]) -> None:
        self._on_change = on_change
        self._results: dict[str, tuple[bool, str]] = {}  # container id -> (result, pod uid)

    def get(self, container_id: str) -> bool | None:
        found = self._results.get(container_id)
        return found[0] if found else None

    def set(self, container_id: str, result: bool, pod_uid: str) -> None:
        previous = self.get(container_id)
        self._results[container_id] = (result, pod_uid)
        if previous is not result:
            self._on_change(pod_uid)

    def remove(self, container_id: str) -> None:
        self._results.pop(container_id, None)

    def failed(self, pod_uid: str) -> list[str]:
        return [cid for cid, (ok, uid) in self._results.items() if uid == pod_uid and not ok]


__all__ = ["INITIAL", "ProbeType", "Results"]
