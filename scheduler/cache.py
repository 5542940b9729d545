"""The scheduler's view of the cluster: the informers' caches plus assumed pods.

Mirrors kube-scheduler's cache (`pkg/scheduler/internal/cache`). Binding is
asynchronous to the watch: after the apiserver accepts a Binding, the pod
informer may still show the pod unbound for a while. Had the next cycle read
only the informer, it would see the node as empty as before and a burst of
pods would all pile onto the same "best" node. So the scheduler *assumes* a
pod onto its node before it binds, and counts assumed pods in every NodeInfo
until the informer shows the pod bound (or gone, or recreated); an assumed pod
whose binding finished but never shows up is dropped after a TTL on the
injected clock. If the binding fails, the scheduler forgets the pod at once.

NodeInfos are kept between cycles, as kube-scheduler's cache keeps them and
snapshots only the nodes whose generation moved: a node's NodeInfo is rebuilt
only when its Node object, the pods indexed onto it (the pod store's index
generation) or the pods assumed onto it changed. Rebuilding every node's from
all bound pods in every cycle made a cycle's cost grow with the cluster's pods.

The stores hold plain dicts; what is read from them is typed here, once, as
`apimachinery.typeddicts`' Pod and Node (a cast: nothing is checked or copied).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import cast

from apimachinery import meta
from apimachinery.clock import Clock
from apimachinery.informer import Store
from apimachinery.meta import Object
from apimachinery.typeddicts import Node, Pod
from scheduler.event_filters import holds_resources
from scheduler.framework import NodeInfo

NODE_NAME_INDEX = "spec.nodeName"
DEFAULT_ASSUME_TTL = 30.0


def node_name_index(obj: Object) -> list[str]:
    """Index pods by the node whose resources they hold (bound, not finished)."""
    pod = cast(Pod, obj)
    return [meta.pod_spec(pod).get("nodeName") or ""] if holds_resources(pod) else []


@dataclass
class AssumedPod:
    pod: Pod  # a copy of the cached pod with spec.nodeName set; never the cached dict
    node: str
    deadline: float | None = None  # set once binding finished (Kubernetes' FinishBinding)


def _uid(pod: Pod) -> str:
    return str(meta.metadata(pod).get("uid") or "")


class SchedulerCache:
    """Builds NodeInfos from the node and pod stores plus the pods assumed onto nodes."""

    def __init__(self, nodes: Store, pods: Store, clock: Clock,
                 ttl: float = DEFAULT_ASSUME_TTL) -> None:
        self._nodes, self._pods, self._clock, self.ttl = nodes, pods, clock, ttl
        self._assumed: dict[str, AssumedPod] = {}
        self._assumed_on: dict[str, dict[str, Pod]] = defaultdict(dict)  # node -> key -> pod
        self._assumed_changed: set[str] = set()  # nodes whose assumed pods changed
        self._infos: list[NodeInfo] = []  # by node name
        self._position: dict[str, int] = {}
        self._nodes_generation = -1
        self._pods_generation = 0

    def __len__(self) -> int:
        """How many pods are assumed right now."""
        return len(self._assumed)

    def assume(self, pod: Pod, node: str) -> None:
        """Count `pod` on `node` from now on (AssumePod); the cached object is not touched."""
        bound: Pod = {**pod, "spec": {**meta.pod_spec(pod), "nodeName": node}}
        key = meta.key_of(pod)
        self.forget(key)
        self._assumed[key] = AssumedPod(bound, node)
        self._assumed_on[node][key] = bound
        self._assumed_changed.add(node)

    def finish_binding(self, key: str) -> None:
        """The apiserver accepted the binding: start the TTL for the watch to catch up."""
        entry = self._assumed.get(key)
        if entry is not None:
            entry.deadline = self._clock.monotonic() + self.ttl

    def forget(self, key: str) -> None:
        """Drop an assumed pod (its binding failed, or the pod is gone)."""
        entry = self._assumed.pop(key, None)
        if entry is not None:
            self._assumed_on[entry.node].pop(key, None)
            self._assumed_changed.add(entry.node)

    def is_assumed(self, pod: Pod) -> bool:
        """This very pod (same uid) is assumed and not yet confirmed by the informer."""
        key = meta.key_of(pod)
        self._expire(key)
        entry = self._assumed.get(key)
        return entry is not None and _uid(entry.pod) == _uid(pod)

    def assumed_node(self, key: str) -> str | None:
        entry = self._assumed.get(key)
        return entry.node if entry else None

    def cleanup(self) -> None:
        """Drop assumed pods the informer has caught up with, and expired ones."""
        for key in list(self._assumed):
            self._expire(key)

    def _expire(self, key: str) -> None:
        entry = self._assumed.get(key)
        if entry is None:
            return
        cached = cast("Pod | None", self._pods.get(key))
        if (cached is None or _uid(cached) != _uid(entry.pod)
                or meta.pod_spec(cached).get("nodeName")
                or (entry.deadline is not None and self._clock.monotonic() >= entry.deadline)):
            self.forget(key)

    def node_infos(self) -> list[NodeInfo]:
        """A NodeInfo per cached node, by name: its bound pods plus pods assumed onto it.

        Only the nodes something happened to since the last call are rebuilt: the
        node store's generation says whether any Node changed, the pod store's
        index says which nodes' pods did, and assume/forget say which nodes'
        assumed pods did.
        """
        self.cleanup()
        self._pods_generation, changed = self._pods.index_changes(
            NODE_NAME_INDEX, self._pods_generation)
        stale = None if changed is None else {*changed, *self._assumed_changed}
        if self._nodes.generation != self._nodes_generation or stale is None:
            self._rebuild_all(stale)
        else:
            for name in stale:
                position = self._position.get(name)
                if position is not None:
                    self._infos[position] = self._build(self._infos[position].node)
        self._assumed_changed.clear()
        return list(self._infos)

    def _rebuild_all(self, stale: set[str] | None) -> None:
        """Re-read the nodes, keeping the NodeInfo of a node whose object is the same
        and which is not `stale` (None: the pod index cannot say, rebuild every one)."""
        self._nodes_generation = self._nodes.generation
        old = {info.name: info for info in self._infos} if stale is not None else {}
        self._infos = []
        nodes = cast("list[Node]", self._nodes.list())
        for name, node in sorted((meta.name_of(n), n) for n in nodes):
            info = old.get(name)
            if info is None or info.node is not node or name in (stale or ()):
                info = self._build(node)
            self._infos.append(info)
        self._position = {info.name: i for i, info in enumerate(self._infos)}

    def _build(self, node: Node) -> NodeInfo:
        name = meta.name_of(node)
        pods = [*cast("list[Pod]", self._pods.by_index(NODE_NAME_INDEX, name)),
                *self._assumed_on.get(name, {}).values()]
        return NodeInfo.build(node, pods)
