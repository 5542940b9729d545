"""`activeDeadlineSeconds`: how long a pod may be active on the node (kubelet's
pastActiveDeadline), purely.

The deadline counts from the pod's `status.startTime` (when the agent took it on).
Past it, the kubelet fails the pod — phase Failed, reason `DeadlineExceeded`, message
"Pod was active on the node longer than the specified deadline", and an event of that
reason — and kills its containers as for any terminal pod. The field may be lowered on
a running pod, so it is read afresh on every sync.
"""

from __future__ import annotations

from datetime import datetime

from apimachinery.meta import Object, parse_time

REASON = "DeadlineExceeded"
MESSAGE = "Pod was active on the node longer than the specified deadline"


def deadline_left(pod: Object, accepted: datetime, now: datetime) -> float | None:
    """Seconds until the pod's deadline (<= 0: past it), or None when it has none."""
    deadline = (pod.get("spec") or {}).get("activeDeadlineSeconds")
    if not isinstance(deadline, int) or isinstance(deadline, bool):
        return None
    try:
        start = parse_time((pod.get("status") or {}).get("startTime")) or accepted
    except ValueError:
        start = accepted
    return deadline - (now - start).total_seconds()
