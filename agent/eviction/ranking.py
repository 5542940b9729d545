"""Which pod goes first under node pressure, and what it is told (the kubelet's, pure).

The kubelet's `rankMemoryPressure` and `rankDiskPressureFunc` order pods by:
1. whether the pod's usage of the starved resource exceeds its requests (those
   that do go first; a pod with no request exceeds it with any usage);
2. priority (`spec.priority`), lowest first;
3. usage above requests, largest first.
Critical pods (priority at or above system-cluster-critical's 2000000000) are
never evicted. The message is the kubelet's: "The node was low on resource:
memory. Threshold quantity: 100Mi, available: 50Mi. Container app was using
300Mi, request is 0, has larger consumption of memory. "
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from agent.eviction.signals import SIGNALS, Observation, Threshold, format_bytes
from agent.runtime.container import ContainerUsage
from apimachinery import quantity
from apimachinery.meta import Object

CRITICAL_PRIORITY = 2_000_000_000
RESOURCE_REQUEST = {"memory": "memory", "ephemeral-storage": "ephemeral-storage"}


@dataclass(frozen=True)
class Candidate:
    pod: Object
    usage: int  # the pod's use of the starved resource, bytes
    request: int  # what its containers request of it, bytes
    priority: int

    @property
    def exceeds(self) -> bool:
        return self.usage > self.request


def container_request(container: Object, resource: str) -> int:
    """A container's request of `resource` in bytes (its limit when it sets only that,
    as the apiserver's defaulting makes it); 0 when neither is set."""
    resources = container.get("resources") or {}
    raw = (resources.get("requests") or {}).get(resource) or \
        (resources.get("limits") or {}).get(resource)
    try:
        return quantity.memory_bytes(raw) if raw is not None else 0
    except (ValueError, ArithmeticError):
        return 0


def usage_of(used: ContainerUsage, resource: str) -> int:
    return used.memory if resource == "memory" else used.disk


def candidate(pod: Object, usage: Iterable[ContainerUsage], resource: str) -> Candidate:
    spec = pod.get("spec") or {}
    apps = sum(container_request(c, resource) for c in spec.get("containers") or [])
    inits = max((container_request(c, resource) for c in spec.get("initContainers") or []),
                default=0)
    return Candidate(pod=pod, usage=sum(usage_of(u, resource) for u in usage),
                     request=max(apps, inits),  # the pod's request, as PodRequests sums it
                     priority=int(spec.get("priority") or 0))


def rank(candidates: Iterable[Candidate]) -> list[Candidate]:
    """Eviction order: over requests first, then lowest priority, then most over requests;
    critical pods left out."""
    eligible = [c for c in candidates if c.priority < CRITICAL_PRIORITY]
    return sorted(eligible, key=lambda c: (not c.exceeds, c.priority, -(c.usage - c.request)))


def eviction_message(threshold: Threshold, observed: Observation, pod: Object,
                     usage: Mapping[str, ContainerUsage]) -> str:
    """The evicted pod's status message and event, in the kubelet's words."""
    resource = SIGNALS[threshold.signal][1]
    message = f"The node was low on resource: {resource}. "
    message += (f"Threshold quantity: {threshold.text()}, available: "
                f"{format_bytes(observed.available)}. ")
    for container in (pod.get("spec") or {}).get("containers") or []:
        used = usage.get(str(container.get("name")))
        if used is None:
            continue
        request = container_request(container, resource)
        amount = usage_of(used, resource)
        if amount > request:
            message += (f"Container {container.get('name')} was using {format_bytes(amount)}, "
                        f"request is {format_bytes(request)}, has larger consumption of "
                        f"{resource}. ")
    return message


__all__ = ["CRITICAL_PRIORITY", "Candidate", "candidate", "container_request",
           "eviction_message", "rank"]
