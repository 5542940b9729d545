"""What the scoring plugins over cpu and memory share (noderesources/resource_allocation.go).

For each scored resource: what the node would have requested with this pod on
it, and what it can allocate. Kubernetes scores cpu and memory by default,
each with weight 1.
"""

from __future__ import annotations

from typing import NamedTuple

from apimachinery.typeddicts import Pod
from scheduler.framework import NodeInfo, pod_requests


class Usage(NamedTuple):
    """One resource on one node: requested (with the pod) and allocatable, same unit."""

    requested: int
    allocatable: int


def usage_with_pod(pod: Pod, node_info: NodeInfo, *, non_zero: bool) -> list[Usage]:
    """cpu and memory usage if the pod were placed on the node.

    `non_zero` counts best-effort containers as 100m/200Mi (LeastAllocated does,
    so empty pods still spread); BalancedAllocation uses the real requests.
    """
    pod_req = pod_requests(pod, non_zero=non_zero)
    node_req = node_info.non_zero_requested if non_zero else node_info.requested
    alloc = node_info.allocatable
    return [Usage(node_req.milli_cpu + pod_req.milli_cpu, alloc.milli_cpu),
            Usage(node_req.memory + pod_req.memory, alloc.memory)]
