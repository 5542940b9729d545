"""Filter verdicts and raw scores remembered per (pod equivalence class, NodeInfo).

The pods of one ReplicaSet are alike: same namespace, same controller, same spec.
Every default plugin's Filter and Score is a pure function of exactly that and of
the NodeInfo, and the scheduler cache keeps a node's NodeInfo object until
something on the node changes (scheduler/cache.py). So when pod 2 of a Deployment
is scheduled right after pod 1, only the node pod 1 was assumed onto has a new
NodeInfo; the verdicts and scores of the other 999 nodes are the ones pod 1 got.

This is the idea of kube-scheduler's old equivalence cache (removed in 1.14, when
Go made per-node filtering cheap enough without it); in Python the plugin calls
per node are the cycle's whole cost, so it pays here (docs/architecture.md,
"Why the scheduler remembers verdicts per equivalence class"). A plugin whose
answer depends on anything else (other pods' labels, as inter-pod affinity
would) must be added to the class key before it can be added to the profile.
"""

from __future__ import annotations

from collections import OrderedDict

import orjson

from apimachinery import meta
from apimachinery.typeddicts import Pod
from scheduler.framework import IdentityMemo, NodeInfo, Status
from scheduler.plugins.selector_spread import controller_uid

MAX_CLASSES = 64


def _class_key(pod: Pod) -> bytes:
    """Namespace, controlling owner and the spec without nodeName, as bytes."""
    spec = {k: v for k, v in meta.pod_spec(pod).items() if k != "nodeName"}
    namespace = meta.namespace_of(pod)
    return orjson.dumps([namespace, controller_uid(pod), spec], option=orjson.OPT_SORT_KEYS)


equivalence_class = IdentityMemo(_class_key)


class NodeVerdicts:
    """One class's memo: NodeInfo -> its filter Status and, once scored, its raw scores.

    Keyed by the NodeInfo object's id, with the object kept in the entry so an id
    is never reused while remembered; entries of replaced NodeInfos are dropped in
    bulk once they outnumber the live ones.
    """

    def __init__(self) -> None:
        self.live_nodes = 0  # the cluster's node count, set by EquivalenceCache.for_pod
        self._verdicts: dict[int, tuple[NodeInfo, Status]] = {}
        self._scores: dict[int, tuple[NodeInfo, tuple[int, ...]]] = {}

    def verdict(self, info: NodeInfo) -> Status | None:
        hit = self._verdicts.get(id(info))
        return hit[1] if hit is not None and hit[0] is info else None

    def remember_verdict(self, info: NodeInfo, status: Status) -> None:
        if len(self._verdicts) > 2 * self.live_nodes + 16:
            self._verdicts.clear()
        self._verdicts[id(info)] = (info, status)

    def scores(self, info: NodeInfo) -> tuple[int, ...] | None:
        hit = self._scores.get(id(info))
        return hit[1] if hit is not None and hit[0] is info else None

    def remember_scores(self, info: NodeInfo, scores: tuple[int, ...]) -> None:
        if len(self._scores) > 2 * self.live_nodes + 16:
            self._scores.clear()
        self._scores[id(info)] = (info, scores)


class EquivalenceCache:
    """The memos of the most recently scheduled classes (least recently used go first)."""

    def __init__(self, max_classes: int = MAX_CLASSES) -> None:
        self._max = max_classes
        self._classes: OrderedDict[bytes, NodeVerdicts] = OrderedDict()

    def __len__(self) -> int:
        return len(self._classes)

    def for_pod(self, pod: Pod, live_nodes: int) -> NodeVerdicts:
        """The memo of `pod`'s class, for a cluster of `live_nodes` nodes."""
        key = equivalence_class(pod)
        memo = self._classes.get(key)
        if memo is None:
            memo = self._classes[key] = NodeVerdicts()
            if len(self._classes) > self._max:
                self._classes.popitem(last=False)
        else:
            self._classes.move_to_end(key)
        memo.live_nodes = live_nodes
        return memo
