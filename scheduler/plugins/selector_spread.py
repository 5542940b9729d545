"""SelectorSpread: spread the pods of one controller across nodes.

Kubernetes' SelectorSpread (and the system-default PodTopologySpread that
replaced it) keeps a ReplicaSet's replicas apart so one node's loss takes out
as few of them as possible. Kubernetes finds the siblings through the
selectors of the Services and controllers that select the pod; Schooner uses
the controller owner reference (`ownerReferences[].controller: true`), which
names the same set for pods a ReplicaSet or StatefulSet made, without reading
every Service. Score: how many live siblings the node already runs;
NormalizeScore turns that into `100 * (max - count) / max`, so the emptiest
node gets 100.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from apimachinery import meta
from apimachinery.typeddicts import Pod
from scheduler.framework import MAX_NODE_SCORE, NodeInfo


def controller_uid(pod: Pod) -> str:
    """The uid of the pod's controlling owner (metav1.GetControllerOf), or ""."""
    for ref in meta.metadata(pod).get("ownerReferences") or []:
        if ref.get("controller"):
            return str(ref.get("uid") or "")
    return ""


def count_siblings(pod: Pod, node_info: NodeInfo) -> int:
    """Pods on the node of the same namespace and controller, not being deleted."""
    owner = controller_uid(pod)
    if not owner:
        return 0
    namespace = meta.namespace_of(pod)
    return sum(1 for p in node_info.pods
               if controller_uid(p) == owner and meta.namespace_of(p) == namespace
               and not meta.metadata(p).get("deletionTimestamp"))


class SelectorSpread:
    name: ClassVar[str] = "SelectorSpread"

    def score(self, pod: Pod, node_info: NodeInfo) -> int:
        return count_siblings(pod, node_info)

    def normalize_score(self, pod: Pod, scores: Mapping[str, int]) -> dict[str, int]:
        highest = max(scores.values(), default=0)
        if highest == 0:
            return {name: MAX_NODE_SCORE for name in scores}
        return {name: MAX_NODE_SCORE * (highest - count) // highest
                for name, count in scores.items()}
