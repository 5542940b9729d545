"""NodeResourcesLeastAllocated: prefer the node with the most free cpu and memory.

Mirrors the LeastAllocated scoring strategy of `plugins/noderesources`
(leastResourceScorer): per resource `(allocatable - requested) * 100 /
allocatable`, averaged with equal weights over the resources the node has.
This is what spreads a burst of identical pods across equal nodes.
"""

from __future__ import annotations

from typing import ClassVar

from apimachinery.typeddicts import Pod
from scheduler.framework import MAX_NODE_SCORE, NodeInfo
from scheduler.plugins.resource_allocation import usage_with_pod


def least_requested_score(requested: int, allocatable: int) -> int:
    """The share left free, 0..100; nothing left (or nothing to give) scores 0."""
    if allocatable == 0 or requested > allocatable:
        return 0
    return (allocatable - requested) * MAX_NODE_SCORE // allocatable


class LeastAllocated:
    name: ClassVar[str] = "NodeResourcesLeastAllocated"

    def score(self, pod: Pod, node_info: NodeInfo) -> int:
        scored = [least_requested_score(u.requested, u.allocatable)
                  for u in usage_with_pod(pod, node_info, non_zero=True) if u.allocatable]
        return sum(scored) // len(scored) if scored else 0
