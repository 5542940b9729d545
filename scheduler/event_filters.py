"""Which pods the scheduler owns, and which changes are worth another scheduling attempt.

Pure predicates over wire-format objects, used by the event handlers. They
mirror kube-scheduler's event filtering: a pod is queued when it is unbound,
alive and addressed to this scheduler (`responsibleForPod`); a status-only
update of an unschedulable pod (often the scheduler's own PodScheduled
condition) does not retry it (`isPodUpdated`); and a node heartbeat does not
retry every pending pod, only a change to what filters look at
(`nodeSchedulingPropertiesChanged`).
"""

from __future__ import annotations

from typing import Any

from apimachinery import meta
from apimachinery.conditions import READY, condition_status
from apimachinery.meta import pod_spec, pod_status
from apimachinery.typeddicts import Node, Pod

DEFAULT_SCHEDULER_NAME = "default-scheduler"
_TERMINAL_PHASES = ("Succeeded", "Failed")


def responsible_for(pod: Pod, scheduler_name: str) -> bool:
    """The pod names this scheduler (an empty schedulerName means the default one)."""
    return (pod_spec(pod).get("schedulerName") or DEFAULT_SCHEDULER_NAME) == scheduler_name


def is_bound(pod: Pod) -> bool:
    return bool(pod_spec(pod).get("nodeName"))


def is_terminal(pod: Pod) -> bool:
    return pod_status(pod).get("phase") in _TERMINAL_PHASES


def holds_resources(pod: Pod) -> bool:
    """Bound and not finished: its requests count against its node."""
    return is_bound(pod) and not is_terminal(pod)


def needs_scheduling(pod: Pod, scheduler_name: str) -> bool:
    """Unbound, not being deleted, not finished, not gated, and ours to place."""
    return (not is_bound(pod) and not meta.metadata(pod).get("deletionTimestamp")
            and not is_terminal(pod) and not pod_spec(pod).get("schedulingGates")
            and responsible_for(pod, scheduler_name))


_VOLATILE_METADATA = ("resourceVersion", "generation", "managedFields")


def _scheduling_view(pod: Pod) -> dict[str, Any]:
    metadata = {k: v for k, v in meta.metadata(pod).items() if k not in _VOLATILE_METADATA}
    return {"metadata": metadata, "spec": pod_spec(pod)}


def pod_spec_changed(old: Pod, new: Pod) -> bool:
    """isPodUpdated: anything but status and bookkeeping metadata changed."""
    return _scheduling_view(old) != _scheduling_view(new)


def node_scheduling_properties_changed(old: Node, new: Node) -> bool:
    """A change a filter could see: cordon, allocatable, labels, taints, readiness."""
    old_spec, new_spec = meta.node_spec(old), meta.node_spec(new)
    return (bool(old_spec.get("unschedulable")) != bool(new_spec.get("unschedulable"))
            or meta.node_status(old).get("allocatable") != meta.node_status(new).get("allocatable")
            or meta.labels_of(old) != meta.labels_of(new)
            or (old_spec.get("taints") or []) != (new_spec.get("taints") or [])
            or condition_status(old, READY) != condition_status(new, READY))
