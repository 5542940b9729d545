"""Reading an object's `status.conditions`: one condition by type, and whether it is True.

Every component asks the same question of pods and nodes ("is it Ready?"),
and Deployments answer others ("is it Progressing?"). Kubernetes answers
them with podutil's GetPodConditionFromList / IsPodReady and nodeutil's
GetNodeCondition; these are the same lookups over wire-format dicts, used by
the controllers, the scheduler, the printers and the lab.

A condition is found by its `type`; the first one of that type wins, and an
entry that is not a mapping (an object a client wrote by hand) is skipped.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from apimachinery.meta import AnyObject, Object, status_of

READY = "Ready"


def find_condition(conditions: Iterable[Any] | None, kind: str) -> Object | None:
    """The first condition of type `kind` in a conditions list (GetPodConditionFromList)."""
    for cond in conditions or ():
        if isinstance(cond, dict) and cond.get("type") == kind:
            return cond
    return None


def get_condition(obj: AnyObject, kind: str) -> Object | None:
    """The condition of type `kind` in `obj`'s status.conditions, or None."""
    return find_condition(status_of(obj).get("conditions"), kind)


def condition_status(obj: AnyObject, kind: str) -> str:
    """That condition's status ("True", "False", "Unknown"), or "" when it is not reported."""
    cond = get_condition(obj, kind)
    return str(cond.get("status") or "") if cond is not None else ""


def is_condition_true(obj: AnyObject, kind: str) -> bool:
    return condition_status(obj, kind) == "True"


def ready_condition(obj: AnyObject) -> Object | None:
    """The Ready condition of a pod or a node."""
    return get_condition(obj, READY)


def is_ready(obj: AnyObject) -> bool:
    """Ready=True (IsPodReady for a pod; a node the scheduler may use)."""
    return is_condition_true(obj, READY)
