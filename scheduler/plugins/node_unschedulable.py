"""NodeUnschedulable: a cordoned node (`spec.unschedulable`) takes no new pods.

Mirrors `plugins/nodeunschedulable`: a pod that tolerates the
`node.kubernetes.io/unschedulable:NoSchedule` taint (DaemonSet pods do) may
still land there.
"""

from __future__ import annotations

from typing import ClassVar

from apimachinery.meta import node_spec
from apimachinery.typeddicts import Pod, Taint
from scheduler.framework import SUCCESS, NodeInfo, Status
from scheduler.plugins.taint_toleration import NO_SCHEDULE, pod_tolerations, tolerated

TAINT_NODE_UNSCHEDULABLE = "node.kubernetes.io/unschedulable"
REASON = "node(s) were unschedulable"


class NodeUnschedulable:
    name: ClassVar[str] = "NodeUnschedulable"

    def filter(self, pod: Pod, node_info: NodeInfo) -> Status:
        if not node_spec(node_info.node).get("unschedulable"):
            return SUCCESS
        taint: Taint = {"key": TAINT_NODE_UNSCHEDULABLE, "effect": NO_SCHEDULE}
        if tolerated(taint, pod_tolerations(pod)):
            return SUCCESS
        return Status.unresolvable(REASON)
