"""The pod lifecycle event generator: notice container changes and wake pod workers.

Like the kubelet's GenericPLEG it relists the runtime every second or two and
compares each pod's containers (id and state) with the previous listing; any
difference wakes that pod's worker. Docker's event stream (`die`, `oom`,
`start`, `destroy`) wakes workers sooner, as the kubelet's evented PLEG does;
the relist is the safety net that catches whatever an event stream misses.
Containers of pods the agent has no worker for (orphans: pods deleted while
the agent was down, or bound elsewhere) surface here too, and their worker
then removes them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from agent.runtime.container import ContainerRuntimeError, ContainerSummary
from agent.runtime.protocol import ContainerRuntime
from apimachinery.clock import Clock

log = logging.getLogger(__name__)
WAKE_ON = frozenset({"die", "oom", "start", "destroy", "kill", "stop"})


def changed_pods(before: dict[str, frozenset[tuple[str, str]]],
                 rows: list[ContainerSummary]
                 ) -> tuple[set[str], dict[str, frozenset[tuple[str, str]]]]:
    """The pod uids whose containers differ from the last relist, and the new snapshot."""
    grouped: dict[str, set[tuple[str, str]]] = {}
    for row in rows:
        grouped.setdefault(row.pod_uid, set()).add((row.id, row.state))
    after = {uid: frozenset(items) for uid, items in grouped.items() if uid}
    changed = {uid for uid in before.keys() | after.keys() if before.get(uid) != after.get(uid)}
    return changed, after


class PLEG:
    def __init__(self, runtime: ContainerRuntime, clock: Clock,
                 wake: Callable[[str], None]) -> None:
        self._runtime = runtime
        self._clock = clock
        self._wake = wake
        self._snapshot: dict[str, frozenset[tuple[str, str]]] = {}

    def on_runtime_event(self, pod_uid: str, action: str) -> None:
        """A Docker event for one of our containers (called on the loop)."""
        if action.split(":")[0] in WAKE_ON:
            self._wake(pod_uid)

    async def relist(self) -> set[str]:
        """One relist: wake the pods that changed; their uids."""
        rows = await self._runtime.list_containers()
        changed, self._snapshot = changed_pods(self._snapshot, rows)
        for uid in changed:
            self._wake(uid)
        return changed

    def pod_uids(self) -> set[str]:
        """The pods the last relist saw containers for."""
        return set(self._snapshot)

    async def run(self, period: float) -> None:
        while True:
            try:
                await self.relist()
            except ContainerRuntimeError as exc:
                log.warning("component=agent relist failed error=%s", exc)
            await self._clock.sleep(period)
