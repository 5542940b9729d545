"""Zone disruption states and the eviction rate limit of the node lifecycle controller.

Kubernetes groups nodes by zone (`topology.kubernetes.io/region` and `zone`
labels) and judges each zone from its nodes' Ready conditions:

- **FullDisruption**: no node of the zone is Ready. When *every* zone is so, the
  fault is the control plane's or the network's, not the nodes': the controller
  removes the NoExecute taints it set and evicts nothing. When any node is Ready
  again, every node's grace period restarts from then.
- **PartialDisruption**: more than 2 nodes, and at least `--unhealthy-zone-threshold`
  (0.55) of them, not Ready: new NoExecute taints are added at
  `--secondary-node-eviction-rate` (0.01/s) in a zone larger than
  `--large-cluster-size-threshold` (50 nodes), not at all in a smaller one.
- **Normal**: taints at `--node-eviction-rate` (0.1 nodes/s, burst 1).

What is rate-limited is the tainting of nodes, as in Kubernetes' taint-based
eviction; the pods then go when their `tolerationSeconds` run out.
"""

from __future__ import annotations

from collections.abc import Iterable

from apimachinery import meta
from apimachinery.clock import Clock
from apimachinery.meta import Object

NORMAL = "Normal"
PARTIAL = "PartialDisruption"
FULL = "FullDisruption"
REGION_LABEL = "topology.kubernetes.io/region"
ZONE_LABEL = "topology.kubernetes.io/zone"


def zone_of(node: Object) -> str:
    """The node's zone key: region and zone labels, empty when unlabelled."""
    labels = meta.labels_of(node)
    region, zone = labels.get(REGION_LABEL, ""), labels.get(ZONE_LABEL, "")
    return f"{region}:{zone}" if region or zone else ""


def zone_state(ready: Iterable[bool], unhealthy_threshold: float) -> str:
    """Kubernetes' ComputeZoneState over the zone's nodes' readiness."""
    values = list(ready)
    up = sum(values)
    down = len(values) - up
    if up == 0 and down > 0:
        return FULL
    if down > 2 and down / (up + down) >= unhealthy_threshold:
        return PARTIAL
    return NORMAL


def zone_qps(state: str, size: int, *, rate: float, secondary_rate: float,
             large_cluster: int) -> float:
    """Nodes per second that may be tainted in a zone in `state` with `size` nodes."""
    if state == PARTIAL:
        return secondary_rate if size > large_cluster else 0.0
    return rate


class TokenBucket:
    """A token bucket on the controller's clock: `qps` tokens a second, at most `burst`."""

    def __init__(self, qps: float, clock: Clock, burst: int = 1) -> None:
        self.qps = qps
        self.burst = burst
        self.clock = clock
        self.tokens = float(burst)
        self.last = clock.monotonic()

    def _refill(self) -> None:
        now = self.clock.monotonic()
        if self.qps > 0:
            self.tokens = min(float(self.burst), self.tokens + (now - self.last) * self.qps)
        self.last = now

    def try_accept(self) -> bool:
        self._refill()
        if self.qps <= 0 or self.tokens < 1:
            return False
        self.tokens -= 1
        return True

    def set_qps(self, qps: float) -> None:
        """Swap the rate, keeping what was used (Kubernetes' SwapLimiter with burst 1)."""
        self._refill()
        self.qps = qps
