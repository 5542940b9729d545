"""NodeReady: only nodes whose Ready condition is True take new pods.

Kubernetes gets this through TaintNodesByCondition: the node lifecycle
controller taints a node `node.kubernetes.io/not-ready:NoSchedule` when Ready
is False (or absent, as on a node that has not reported yet) and
`node.kubernetes.io/unreachable:NoSchedule` when it is Unknown, and the
TaintToleration filter does the rest. Schooner has no such controller yet, so
this plugin applies those taints' effect from the condition itself, with the
same reason string and the same escape hatch: a pod that tolerates the taint
(as DaemonSet pods do) may still land there. Once the controller writes the
real taints, both checks agree and the first to run names the taint.
"""

from __future__ import annotations

from typing import ClassVar

from apimachinery.conditions import READY, condition_status
from apimachinery.typeddicts import Pod, Taint
from scheduler.framework import SUCCESS, NodeInfo, Status
from scheduler.plugins.taint_toleration import (
    NO_SCHEDULE,
    pod_tolerations,
    tolerated,
    untolerated_taint_reason,
)

TAINT_NODE_NOT_READY = "node.kubernetes.io/not-ready"
TAINT_NODE_UNREACHABLE = "node.kubernetes.io/unreachable"


class NodeReady:
    name: ClassVar[str] = "NodeReady"

    def filter(self, pod: Pod, node_info: NodeInfo) -> Status:
        status = condition_status(node_info.node, READY)
        if status == "True":
            return SUCCESS
        key = TAINT_NODE_UNREACHABLE if status == "Unknown" else TAINT_NODE_NOT_READY
        taint: Taint = {"key": key, "effect": NO_SCHEDULE}
        if tolerated(taint, pod_tolerations(pod)):
            return SUCCESS
        return Status.unresolvable(untolerated_taint_reason(taint))
