"""NodeName: a pod that names its node (`spec.nodeName`) fits that node only.

Mirrors `plugins/nodename`. Pods that already carry a nodeName never reach the
scheduling queue, so this matters for callers that run the cycle on such a pod
(a dry run, or a future preemption simulation).
"""

from __future__ import annotations

from typing import ClassVar

from apimachinery.meta import pod_spec
from apimachinery.typeddicts import Pod
from scheduler.framework import SUCCESS, NodeInfo, Status

REASON = "node(s) didn't match the requested node name"


class NodeName:
    name: ClassVar[str] = "NodeName"

    def filter(self, pod: Pod, node_info: NodeInfo) -> Status:
        wanted = pod_spec(pod).get("nodeName")
        if not wanted or wanted == node_info.name:
            return SUCCESS
        return Status.unresolvable(REASON)
