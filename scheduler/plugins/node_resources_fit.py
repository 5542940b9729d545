"""NodeResourcesFit: the pod's requests must fit in what the node's pods leave free.

Mirrors `plugins/noderesources/fit.go` (fitsRequest): allocatable minus the
requests of the pods already on the node (including pods this scheduler has
assumed but the informer has not shown bound yet), per resource, plus the
node's pod count against `allocatable.pods`. Every shortfall is its own
reason, so a node short of cpu and memory counts for both in the message.
"""

from __future__ import annotations

from typing import ClassVar

from apimachinery.typeddicts import Pod
from scheduler.framework import SUCCESS, NodeInfo, Resource, Status, pod_requests

TOO_MANY_PODS = "Too many pods"


def insufficient_resources(request: Resource, node_info: NodeInfo) -> list[str]:
    """Kubernetes' reasons, in its order: pods, cpu, memory, ephemeral-storage, scalars."""
    reasons: list[str] = []
    if len(node_info.pods) + 1 > node_info.allowed_pod_number:
        reasons.append(TOO_MANY_PODS)
    free, used = node_info.allocatable, node_info.requested
    checks = [("cpu", request.milli_cpu, free.milli_cpu - used.milli_cpu),
              ("memory", request.memory, free.memory - used.memory),
              ("ephemeral-storage", request.ephemeral_storage,
               free.ephemeral_storage - used.ephemeral_storage)]
    checks += [(name, amount, free.scalar.get(name, 0) - used.scalar.get(name, 0))
               for name, amount in sorted(request.scalar.items())]
    for name, wanted, available in checks:
        if wanted > 0 and wanted > available:
            reasons.append(f"Insufficient {name}")
    return reasons


class NodeResourcesFit:
    name: ClassVar[str] = "NodeResourcesFit"

    def filter(self, pod: Pod, node_info: NodeInfo) -> Status:
        reasons = insufficient_resources(pod_requests(pod), node_info)
        return Status.unschedulable(*reasons) if reasons else SUCCESS
