"""NodeResourcesBalancedAllocation: prefer nodes whose cpu and memory fill up evenly.

Mirrors `plugins/noderesources/balanced_allocation.go`: with the pod placed,
each resource's requested fraction (capped at 1); the score is
`(1 - std) * 100`, where for two resources std is half their difference. A
node that would be 90% cpu and 10% memory full is a worse home than 50/50,
since its leftover memory is stranded.
"""

from __future__ import annotations

import math
from typing import ClassVar

from apimachinery.typeddicts import Pod
from scheduler.framework import MAX_NODE_SCORE, NodeInfo
from scheduler.plugins.resource_allocation import usage_with_pod


def balanced_score(fractions: list[float]) -> int:
    """`(1 - standard deviation of the fractions) * 100`, truncated like Go's int64()."""
    if len(fractions) == 2:
        std = abs(fractions[0] - fractions[1]) / 2
    elif len(fractions) > 2:
        mean = sum(fractions) / len(fractions)
        std = math.sqrt(sum((f - mean) ** 2 for f in fractions) / len(fractions))
    else:
        std = 0.0
    return int((1 - std) * MAX_NODE_SCORE)


class BalancedAllocation:
    name: ClassVar[str] = "NodeResourcesBalancedAllocation"

    def score(self, pod: Pod, node_info: NodeInfo) -> int:
        fractions = [min(u.requested / u.allocatable, 1.0)
                     for u in usage_with_pod(pod, node_info, non_zero=False) if u.allocatable]
        return balanced_score(fractions)
