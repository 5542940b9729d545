"""Pod facts controllers decide on: active, ready since when, available.

Pure functions over wire-format pod dicts, mirroring Kubernetes' podutil
(IsPodAvailable) and controller_utils (IsPodActive); whether a pod is Ready is
`apimachinery.conditions.is_ready`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from apimachinery import meta
from apimachinery.conditions import is_ready, ready_condition
from apimachinery.meta import Object


def is_pod_active(pod: Object) -> bool:
    """Not Succeeded, not Failed, not being deleted: it counts towards replicas."""
    phase = (pod.get("status") or {}).get("phase")
    return phase not in ("Succeeded", "Failed") and not meta.metadata(pod).get(
        "deletionTimestamp")


def pod_ready_time(pod: Object) -> datetime | None:
    """When the Ready condition last became True (None if not ready or unknown)."""
    cond = ready_condition(pod)
    if cond is None or cond.get("status") != "True":
        return None
    return meta.parse_time(cond.get("lastTransitionTime"))


def is_pod_available(pod: Object, min_ready_seconds: int, now: datetime) -> bool:
    """Ready for at least minReadySeconds (IsPodAvailable); no transition time: not yet."""
    if not is_ready(pod):
        return False
    if min_ready_seconds <= 0:
        return True
    since = pod_ready_time(pod)
    return since is not None and since + timedelta(seconds=min_ready_seconds) < now
