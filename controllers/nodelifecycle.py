"""Node lifecycle: a node that stops renewing its Lease is marked Unknown, tainted, emptied.

Kubernetes' node lifecycle controller and its taint-based eviction, in one
level-triggered controller keyed by node name:

1. **Health.** The node's last heartbeat is the later of its Lease's
   `spec.renewTime` and its Ready condition's `lastHeartbeatTime`. When that is
   older than `--node-monitor-grace-period` (default 15 s; Kubernetes: 40 s), every
   condition the agent posts goes to `Unknown`, reason `NodeStatusUnknown`,
   "Kubelet stopped posting node status.", and the node's pods get Ready=False
   (MarkPodsNotReady), so the Endpoints drop them at once.
2. **Taints.** Ready Unknown -> `node.kubernetes.io/unreachable:NoExecute`;
   Ready False -> `node.kubernetes.io/not-ready:NoExecute`; Ready True -> neither.
   The scheduler's TaintToleration filter then keeps new pods off the node. A
   cordoned node (`spec.unschedulable`, `kubectl cordon`) gets
   `node.kubernetes.io/unschedulable:NoSchedule`, and loses it when uncordoned, as
   Kubernetes' NoSchedule tainting pass does; so do the agent's pressure conditions:
   MemoryPressure, DiskPressure, PIDPressure True -> `node.kubernetes.io/memory-pressure`,
   `disk-pressure`, `pid-pressure` `:NoSchedule` (TaintNodesByCondition).
3. **Eviction.** A pod on a node with such a taint is deleted once it has
   tolerated it for its toleration's `tolerationSeconds`; a pod without a matching
   toleration gets `--default-unreachable-toleration-seconds` /
   `--default-not-ready-toleration-seconds` (default 10 s; Kubernetes' admission
   default is 300 s); a toleration without seconds tolerates forever. The deletion
   is graceful: with the node's agent gone the pod stays Terminating, which is enough
   for its ReplicaSet to replace it (terminating pods are not active) and for a
   StatefulSet *not* to start its replacement until the old pod is really gone.

Pure decisions (`heartbeat_age`, `wanted_taints`, `eviction_due`) are functions of
plain objects; `reconcile` does the writes and requeues itself for the next moment
something can change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from apimachinery import errors, meta
from apimachinery.conditions import READY, find_condition, get_condition, ready_condition
from apimachinery.events import EventRecorder
from apimachinery.meta import Object, rfc3339

from .base import Controller, ControllerClient, SharedInformerFactory

LEASE_NAMESPACE = "kube-node-lease"
NODE_NAME_INDEX = "spec.nodeName"
UNREACHABLE = "node.kubernetes.io/unreachable"
NOT_READY = "node.kubernetes.io/not-ready"
NODE_TAINT_KEYS = (UNREACHABLE, NOT_READY)
UNSCHEDULABLE = "node.kubernetes.io/unschedulable"
# condition (status True) -> its NoSchedule taint, as Kubernetes' TaintNodesByCondition
PRESSURE_TAINTS = {"MemoryPressure": "node.kubernetes.io/memory-pressure",
                   "DiskPressure": "node.kubernetes.io/disk-pressure",
                   "PIDPressure": "node.kubernetes.io/pid-pressure"}
UNKNOWN_REASON = "NodeStatusUnknown"
UNKNOWN_MESSAGE = "Kubelet stopped posting node status."


def heartbeat_age(node: Object, lease: Object | None, now: datetime) -> float | None:
    """Seconds since the node last showed life, or None if it never did."""
    times = [meta.parse_time(((lease or {}).get("spec") or {}).get("renewTime")),
             meta.parse_time((ready_condition(node) or {}).get("lastHeartbeatTime"))]
    seen = [t for t in times if t is not None]
    return (now - max(seen)).total_seconds() if seen else None


def with_unknown_conditions(node: Object, now: datetime) -> Object | None:
    """The node with every agent condition Unknown, or None if they already are."""
    status = (node.get("status") or {})
    conditions = [dict(c) for c in status.get("conditions") or []]
    changed = False
    for cond in conditions:
        if cond.get("status") != "Unknown":
            cond.update(status="Unknown", reason=UNKNOWN_REASON, message=UNKNOWN_MESSAGE,
                        lastTransitionTime=rfc3339(now))
            changed = True
    if not conditions:
        conditions = [{"type": "Ready", "status": "Unknown", "reason": UNKNOWN_REASON,
                       "message": UNKNOWN_MESSAGE, "lastTransitionTime": rfc3339(now)}]
        changed = True
    if not changed:
        return None
    updated = meta.deep_copy(node)
    updated.setdefault("status", {})["conditions"] = conditions
    return updated


def wanted_taint_key(node: Object) -> str | None:
    """The NoExecute taint the node's Ready condition calls for, if any."""
    status = (ready_condition(node) or {}).get("status", "Unknown")
    return None if status == "True" else UNREACHABLE if status == "Unknown" else NOT_READY


def _cordon_taint(taint: Object) -> bool:
    return taint.get("key") == UNSCHEDULABLE and taint.get("effect") == "NoSchedule"


def pressure_taint_keys(node: Object) -> list[str]:
    """The NoSchedule taints the node's pressure conditions call for (TaintNodesByCondition)."""
    return [key for kind, key in PRESSURE_TAINTS.items()
            if (get_condition(node, kind) or {}).get("status") == "True"]


def _pressure_taint(taint: Object) -> bool:
    return taint.get("key") in PRESSURE_TAINTS.values() and taint.get("effect") == "NoSchedule"


def wanted_taints(node: Object, now: datetime) -> list[Object] | None:
    """The node's taints with the lifecycle, cordon and pressure taints right, or None if
    they already are."""
    spec = node.get("spec") or {}
    taints = list(spec.get("taints") or [])
    key = wanted_taint_key(node)
    mine = [t for t in taints if t.get("key") in NODE_TAINT_KEYS and t.get("effect") == "NoExecute"]
    cordoned = bool(spec.get("unschedulable"))
    pressure = pressure_taint_keys(node)
    if [t.get("key") for t in mine] == ([key] if key else []) and \
            any(_cordon_taint(t) for t in taints) == cordoned and \
            sorted(t.get("key") for t in taints if _pressure_taint(t)) == sorted(pressure):
        return None
    kept = [t for t in taints if t not in mine and not _cordon_taint(t)
            and not _pressure_taint(t)]
    if cordoned:
        kept.append({"key": UNSCHEDULABLE, "effect": "NoSchedule"})
    kept.extend({"key": k, "effect": "NoSchedule", "timeAdded": rfc3339(now)} for k in pressure)
    if key:
        kept.append({"key": key, "effect": "NoExecute", "timeAdded": rfc3339(now)})
    return kept


def toleration_seconds(pod: Object, taint: Object, default: float) -> float | None:
    """How long the pod tolerates the taint: its toleration's seconds, None for ever."""
    for tol in (pod.get("spec") or {}).get("tolerations") or []:
        effect_ok = not tol.get("effect") or tol.get("effect") == taint.get("effect")
        key_ok = (tol.get("operator") == "Exists" and not tol.get("key")) or \
            tol.get("key") == taint.get("key")
        if effect_ok and key_ok:
            seconds = tol.get("tolerationSeconds")
            return None if seconds is None else max(0.0, float(seconds))
    return default


@dataclass(frozen=True)
class Eviction:
    due: bool
    wait: float | None  # seconds until due; None when never


def eviction_due(pod: Object, taint: Object, now: datetime, default: float) -> Eviction:
    seconds = toleration_seconds(pod, taint, default)
    if seconds is None:
        return Eviction(False, None)
    added = meta.parse_time(taint.get("timeAdded")) or now
    left = (added + timedelta(seconds=seconds) - now).total_seconds()
    return Eviction(left <= 0, max(0.0, left))


def pod_node_index(pod: Object) -> list[str]:
    node = (pod.get("spec") or {}).get("nodeName")
    return [node] if node else []


def with_pod_not_ready(pod: Object, now: datetime) -> Object | None:
    status = pod.get("status") or {}
    conditions = [dict(c) for c in status.get("conditions") or []]
    ready = find_condition(conditions, READY)
    if ready is None or ready.get("status") == "False":
        return None
    ready.update(status="False", reason="NodeNotReady", lastTransitionTime=rfc3339(now),
                 message="the node stopped posting its status")
    updated = meta.deep_copy(pod)
    updated["status"]["conditions"] = conditions
    return updated


class NodeLifecycleController(Controller):
    name = "nodelifecycle"

    def __init__(self, client: ControllerClient, factory: SharedInformerFactory, *,
                 grace_period: float = 15.0, unreachable_seconds: float = 10.0,
                 not_ready_seconds: float = 10.0, workers: int = 1, **kwargs: Any) -> None:
        super().__init__(client, factory, workers=workers, **kwargs)
        self.grace_period = grace_period
        self.defaults = {UNREACHABLE: unreachable_seconds, NOT_READY: not_ready_seconds}
        self.nodes = factory.informer("nodes")
        self.leases = factory.informer("leases")
        self.pods = factory.informer("pods")
        factory.add_indexer("pods", NODE_NAME_INDEX, pod_node_index)
        self.recorder = EventRecorder(client, "node-controller", self.clock)  # type: ignore[arg-type]
        self.nodes.add_event_handler(self.enqueue, lambda _o, n: self.enqueue(n), self._forget)
        self.leases.add_event_handler(self._lease_changed, lambda _o, n: self._lease_changed(n),
                                      None)
        self.pods.add_event_handler(self._pod_changed, lambda _o, n: self._pod_changed(n), None)

    def _forget(self, node: Object) -> None:
        self.queue.forget(meta.name_of(node))

    def _lease_changed(self, lease: Object) -> None:
        if meta.namespace_of(lease) == LEASE_NAMESPACE:
            self.queue.add(meta.name_of(lease))

    def _pod_changed(self, pod: Object) -> None:
        for node in pod_node_index(pod):
            self.queue.add(node)

    async def reconcile(self, key: str) -> None:
        node = self.nodes.store.get(key)
        if node is None:
            return
        now = self.clock.now()
        lease = self.leases.store.get(f"{LEASE_NAMESPACE}/{key}")
        age = heartbeat_age(node, lease, now)
        next_check: float | None = None
        if age is not None and age > self.grace_period:
            node = await self._mark_unknown(key, node, now)
        elif age is not None:
            next_check = self.grace_period - age + 0.5
        node = await self._sync_taints(key, node, now)
        wait = await self._evict(key, node, now)
        delays = [d for d in (next_check, wait) if d is not None]
        if delays:
            self.queue.add_after(key, max(0.5, min(delays)))

    async def _mark_unknown(self, key: str, node: Object, now: datetime) -> Object:
        updated = with_unknown_conditions(node, now)
        if updated is None:
            return node
        node = await self.client.update_status("nodes", updated)
        self.decision(key, "node-unknown", grace=f"{self.grace_period:g}s")
        self.recorder.record(node, "NodeNotReady", f"Node {key} status is now: NodeNotReady")
        for pod in self.pods.store.by_index(NODE_NAME_INDEX, key):
            not_ready = with_pod_not_ready(pod, now)
            if not_ready is not None:
                try:
                    await self.client.update_status("pods", not_ready)
                except (errors.NotFound, errors.Conflict):
                    continue  # gone or changed: the next pass looks again
        return node

    async def _sync_taints(self, key: str, node: Object, now: datetime) -> Object:
        taints = wanted_taints(node, now)
        if taints is None:
            return node
        updated = meta.deep_copy(node)
        updated.setdefault("spec", {})["taints"] = taints
        node = await self.client.update("nodes", updated)
        self.decision(key, "taints", taints=",".join(str(t.get("key")) for t in taints) or "-")
        return node

    async def _evict(self, key: str, node: Object, now: datetime) -> float | None:
        """Delete the pods whose toleration ran out; the seconds until the next one is due."""
        taint = next((t for t in (node.get("spec") or {}).get("taints") or []
                      if t.get("key") in NODE_TAINT_KEYS and t.get("effect") == "NoExecute"),
                     None)
        if taint is None:
            return None
        waits: list[float] = []
        for pod in self.pods.store.by_index(NODE_NAME_INDEX, key):
            if meta.metadata(pod).get("deletionTimestamp"):
                continue
            eviction = eviction_due(pod, taint, now, self.defaults[str(taint["key"])])
            if not eviction.due:
                if eviction.wait is not None:
                    waits.append(eviction.wait)
                continue
            try:
                await self.client.delete("pods", meta.name_of(pod), meta.namespace_of(pod),
                                         preconditions={"uid": meta.metadata(pod)["uid"]})
            except (errors.NotFound, errors.Conflict):
                continue
            self.decision(key, "evict", pod=meta.key_of(pod), taint=taint["key"])
            self.recorder.record(pod, "TaintManagerEviction",
                                 f"Marking for deletion Pod {meta.key_of(pod)}")
        return min(waits) + 0.1 if waits else None
