"""When the node lifecycle controller last saw each node show life, by its own clock.

Kubernetes' node lifecycle controller keeps a `nodeHealthMap` whose
`probeTimestamp` is the controller's *local* time at which it observed a node's
Lease `renewTime` (or its Ready condition's `lastHeartbeatTime`) change. The
agent's timestamps are compared only for change, never against the
controller's clock, so:

- an agent whose clock is hours ahead or behind is healthy as long as its Lease
  keeps changing;
- a controller that restarts, or that saw nothing while the apiserver or etcd
  was away, starts every node's grace period afresh from the moment it looks
  again (`reset`), instead of finding every Lease "old" at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from apimachinery.conditions import ready_condition
from apimachinery.meta import Object


@dataclass
class Probe:
    """What the controller last saw of one node, and when (its own clock)."""

    seen: datetime
    renew_time: str | None
    heartbeat: str | None


def heartbeat_marks(node: Object, lease: Object | None) -> tuple[str | None, str | None]:
    """The node's two heartbeats as opaque values: Lease renewTime, Ready heartbeat."""
    renew = ((lease or {}).get("spec") or {}).get("renewTime")
    beat = (ready_condition(node) or {}).get("lastHeartbeatTime")
    return (str(renew) if renew else None, str(beat) if beat else None)


class NodeHealth:
    """Per node: the local time its heartbeat was last seen to change."""

    def __init__(self) -> None:
        self._probes: dict[str, Probe] = {}

    def observe(self, name: str, node: Object, lease: Object | None,
                now: datetime) -> float | None:
        """Seconds since the node's heartbeat last changed, as this controller saw it;
        None for a node that never posted one (it is not judged)."""
        renew, beat = heartbeat_marks(node, lease)
        if renew is None and beat is None:
            self._probes.pop(name, None)
            return None
        probe = self._probes.get(name)
        if probe is None or (renew, beat) != (probe.renew_time, probe.heartbeat):
            probe = self._probes[name] = Probe(now, renew, beat)
        return max(0.0, (now - probe.seen).total_seconds())

    def reset(self, now: datetime) -> None:
        """Start every node's grace period again from `now` (after a full disruption)."""
        for probe in self._probes.values():
            probe.seen = now

    def forget(self, name: str) -> None:
        self._probes.pop(name, None)
