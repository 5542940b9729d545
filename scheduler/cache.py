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
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from apimachinery import meta
from apimachinery.clock import Clock
from apimachinery.informer import Store
from scheduler.events import holds_resources
from scheduler.framework import NodeInfo

Object = dict[str, Any]

NODE_NAME_INDEX = "spec.nodeName"
DEFAULT_ASSUME_TTL = 30.0


def node_name_index(pod: Object) -> list[str]:
    """Index pods by the node whose resources they hold (bound, not finished)."""
    return [pod["spec"]["nodeName"]] if holds_resources(pod) else []


@dataclass
class AssumedPod:
    pod: Object  # a copy of the cached pod with spec.nodeName set; never the cached dict
    node: str
    deadline: float | None = None  # set once binding finished (Kubernetes' FinishBinding)


def _uid(pod: Object) -> str:
    return str(meta.metadata(pod).get("uid") or "")


class SchedulerCache:
    """Builds NodeInfos from the node and pod stores plus the pods assumed onto nodes."""

    def __init__(self, nodes: Store, pods: Store, clock: Clock,
                 ttl: float = DEFAULT_ASSUME_TTL) -> None:
        self._nodes, self._pods, self._clock, self.ttl = nodes, pods, clock, ttl
        self._assumed: dict[str, AssumedPod] = {}

    def __len__(self) -> int:
        """How many pods are assumed right now."""
        return len(self._assumed)

    def assume(self, pod: Object, node: str) -> None:
        """Count `pod` on `node` from now on (AssumePod); the cached object is not touched."""
        bound = {**pod, "spec": {**(pod.get("spec") or {}), "nodeName": node}}
        self._assumed[meta.key_of(pod)] = AssumedPod(bound, node)

    def finish_binding(self, key: str) -> None:
        """The apiserver accepted the binding: start the TTL for the watch to catch up."""
        entry = self._assumed.get(key)
        if entry is not None:
            entry.deadline = self._clock.monotonic() + self.ttl

    def forget(self, key: str) -> None:
        """Drop an assumed pod (its binding failed, or the pod is gone)."""
        self._assumed.pop(key, None)

    def is_assumed(self, pod: Object) -> bool:
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
        cached = self._pods.get(key)
        if (cached is None or _uid(cached) != _uid(entry.pod)
                or (cached.get("spec") or {}).get("nodeName")
                or (entry.deadline is not None and self._clock.monotonic() >= entry.deadline)):
            del self._assumed[key]

    def node_infos(self) -> list[NodeInfo]:
        """A NodeInfo per cached node, by name: its bound pods plus pods assumed onto it."""
        self.cleanup()
        assumed: dict[str, list[Object]] = defaultdict(list)
        for entry in self._assumed.values():
            assumed[entry.node].append(entry.pod)
        infos = []
        for node in sorted(self._nodes.list(), key=meta.name_of):
            name = meta.name_of(node)
            pods = [*self._pods.by_index(NODE_NAME_INDEX, name), *assumed.get(name, [])]
            infos.append(NodeInfo.build(node, pods))
        return infos
