"""TaintToleration: a pod may only land where it tolerates every NoSchedule/NoExecute taint.

Mirrors `plugins/tainttoleration`: the filter rejects a node with the first
hard taint the pod does not tolerate, naming it as Kubernetes does
(`node(s) had untolerated taint {key: value}`); PreferNoSchedule taints never
reject, they only lower the node's score (fewer untolerated ones is better).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import ClassVar

from apimachinery.meta import node_spec, pod_spec
from apimachinery.typeddicts import Node, Pod, Taint, Toleration
from scheduler.framework import SUCCESS, NodeInfo, Status, default_normalize_score

NO_SCHEDULE, PREFER_NO_SCHEDULE, NO_EXECUTE = "NoSchedule", "PreferNoSchedule", "NoExecute"


def tolerates(toleration: Toleration, taint: Taint) -> bool:
    """v1.Toleration.ToleratesTaint: effect and key match when set; Equal compares values.

    An empty effect tolerates every effect, an empty key with `Exists` every taint;
    an empty operator means `Equal`.
    """
    effect = toleration.get("effect") or ""
    if effect and effect != taint.get("effect"):
        return False
    key = toleration.get("key") or ""
    if key and key != taint.get("key"):
        return False
    operator = toleration.get("operator") or "Equal"
    if operator == "Exists":
        return True
    if operator == "Equal":
        return (toleration.get("value") or "") == (taint.get("value") or "")
    return False


def tolerated(taint: Taint, tolerations: Iterable[Toleration]) -> bool:
    return any(tolerates(t, taint) for t in tolerations)


def pod_tolerations(pod: Pod) -> list[Toleration]:
    return list(pod_spec(pod).get("tolerations") or [])


def node_taints(node: Node) -> list[Taint]:
    return list(node_spec(node).get("taints") or [])


def untolerated_taint_reason(taint: Taint) -> str:
    """The reason string Kubernetes prints for an untolerated taint."""
    return f"node(s) had untolerated taint {{{taint.get('key', '')}: {taint.get('value') or ''}}}"


class TaintToleration:
    """Filter on NoSchedule/NoExecute taints; score down untolerated PreferNoSchedule ones."""

    name: ClassVar[str] = "TaintToleration"

    def filter(self, pod: Pod, node_info: NodeInfo) -> Status:
        tolerations = pod_tolerations(pod)
        for taint in node_taints(node_info.node):
            if taint.get("effect") not in (NO_SCHEDULE, NO_EXECUTE):
                continue
            if not tolerated(taint, tolerations):
                return Status.unresolvable(untolerated_taint_reason(taint))
        return SUCCESS

    def score(self, pod: Pod, node_info: NodeInfo) -> int:
        """How many PreferNoSchedule taints the pod does not tolerate (lower is better).

        Only tolerations with an empty or PreferNoSchedule effect count here, as in
        getAllTolerationPreferNoSchedule.
        """
        soft = [t for t in pod_tolerations(pod)
                if (t.get("effect") or "") in ("", PREFER_NO_SCHEDULE)]
        return sum(1 for taint in node_taints(node_info.node)
                   if taint.get("effect") == PREFER_NO_SCHEDULE and not tolerated(taint, soft))

    def normalize_score(self, pod: Pod, scores: Mapping[str, int]) -> dict[str, int]:
        return default_normalize_score(scores, reverse=True)
