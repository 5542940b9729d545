"""The default plugin set and, in one place, the weight of every scoring plugin.

Order matters: filters run in this order and a node's first rejection is the
reason it reports, as with kube-scheduler's default profile (NodeUnschedulable,
NodeName, TaintToleration, NodeAffinity, NodePorts, NodeResourcesFit).
"""

from __future__ import annotations

from types import MappingProxyType

from scheduler.framework import Profile
from scheduler.plugins.balanced_allocation import BalancedAllocation
from scheduler.plugins.least_allocated import LeastAllocated
from scheduler.plugins.node_affinity import NodeAffinity
from scheduler.plugins.node_name import NodeName
from scheduler.plugins.node_ports import NodePorts
from scheduler.plugins.node_ready import NodeReady
from scheduler.plugins.node_resources_fit import NodeResourcesFit
from scheduler.plugins.node_unschedulable import NodeUnschedulable
from scheduler.plugins.selector_spread import SelectorSpread
from scheduler.plugins.taint_toleration import TaintToleration
from scheduler.plugins.volume_binding import VolumeBinding

# kube-scheduler's default weights (pkg/scheduler/apis/config/v1/default_plugins.go).
# SelectorSpread takes the weight of PodTopologySpread, whose system-default
# spreading it stands in for.
WEIGHTS = MappingProxyType({
    TaintToleration.name: 3,
    NodeAffinity.name: 2,
    SelectorSpread.name: 2,
    LeastAllocated.name: 1,
    BalancedAllocation.name: 1,
})


def default_profile() -> Profile:
    """The `default-scheduler` profile: every plugin, in Kubernetes' order, with WEIGHTS."""
    return Profile(plugins=(
        NodeUnschedulable(), NodeName(), NodeReady(), TaintToleration(), NodeAffinity(),
        NodePorts(), NodeResourcesFit(), VolumeBinding(), LeastAllocated(),
        BalancedAllocation(), SelectorSpread(),
    ), weights=WEIGHTS)


__all__ = ["WEIGHTS", "default_profile"]
