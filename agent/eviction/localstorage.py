"""Pods over their local storage limits are evicted (the kubelet's localStorageEviction,
purely).

The kubelet checks every pod on each housekeeping pass, pressure or not:
- an `emptyDir` on disk holding more than its `sizeLimit` gets its pod evicted with
  "Usage of EmptyDir volume "NAME" exceeds the limit "LIMIT". " (a `medium: Memory`
  one is a tmpfs of that size instead: it cannot grow past it);
- a container whose writable layer and logs use more than its
  `limits.ephemeral-storage`, with "Container NAME exceeded its local ephemeral storage
  limit "LIMIT". ".
Usage is what the runtime reports: per container `ContainerUsage.disk` (Docker's SizeRw
plus the log files, the figure the node-pressure ranking uses), per volume its size.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from agent.podsync.volumes import emptydir_name
from agent.runtime.container import ContainerUsage
from apimachinery import quantity
from apimachinery.meta import Object

RESOURCE = "ephemeral-storage"


def limits(pod: Object) -> dict[str, tuple[str, int]]:
    """container name -> (the limit as written, in bytes), for containers that set one."""
    spec = pod.get("spec") or {}
    found: dict[str, tuple[str, int]] = {}
    for c in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]:
        raw = ((c.get("resources") or {}).get("limits") or {}).get(RESOURCE)
        if raw is None:
            continue
        try:
            found[str(c.get("name"))] = (str(raw), quantity.memory_bytes(raw))
        except (ValueError, ArithmeticError):
            continue
    return found


def emptydir_limits(pod: Object) -> dict[str, tuple[str, str, int]]:
    """runtime volume name -> (the pod's volume name, sizeLimit as written, in bytes), for
    each emptyDir on disk with a sizeLimit."""
    uid = str((pod.get("metadata") or {}).get("uid") or "")
    found: dict[str, tuple[str, str, int]] = {}
    for volume in (pod.get("spec") or {}).get("volumes") or []:
        empty = volume.get("emptyDir")
        if not isinstance(empty, dict) or empty.get("medium") == "Memory" \
                or empty.get("sizeLimit") is None:
            continue
        try:
            size = quantity.memory_bytes(empty["sizeLimit"])
        except (ValueError, ArithmeticError):
            continue
        name = str(volume.get("name"))
        found[emptydir_name(uid, name)] = (name, str(empty["sizeLimit"]), size)
    return found


def volumes_over_limit(pods: Iterable[Object], usage: Mapping[str, int]
                       ) -> list[tuple[Object, str]]:
    """(pod, the kubelet's eviction message) for each pod with an emptyDir over its limit."""
    evict = []
    for pod in pods:
        for runtime_name, (name, raw, size) in emptydir_limits(pod).items():
            if usage.get(runtime_name, 0) > size:
                evict.append((pod, f'Usage of EmptyDir volume "{name}" exceeds the limit '
                                   f'"{raw}". '))
                break
    return evict


def over_limit(pods: Iterable[Object], usage: Mapping[str, list[ContainerUsage]]
               ) -> list[tuple[Object, str]]:
    """(pod, the kubelet's eviction message) for each pod with a container over its limit."""
    evict = []
    for pod in pods:
        bounds = limits(pod)
        uid = str((pod.get("metadata") or {}).get("uid") or "")
        for used in usage.get(uid, []):
            bound = bounds.get(used.name)
            if bound is not None and used.disk > bound[1]:
                evict.append((pod, f'Container {used.name} exceeded its local ephemeral '
                                   f'storage limit "{bound[0]}". '))
                break
    return evict


__all__ = ["emptydir_limits", "limits", "over_limit", "volumes_over_limit"]
