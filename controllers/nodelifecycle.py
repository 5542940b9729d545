"""Node lifecycle: a node that stops renewing its Lease is marked Unknown, tainted, emptied,
unless the whole cluster looks down at once.

Kubernetes' node lifecycle controller and its taint-based eviction. A monitor
pass every `--node-monitor-period` (5 s) does what Kubernetes' monitorNodeHealth
does; a work queue keyed by node name does the rest:

1. **Health, by the controller's own clock** (`nodehealth.py`). A node's
   heartbeat is the moment this controller *saw* its Lease `renewTime` (or its
   Ready condition's `lastHeartbeatTime`) change, never the agent's timestamp,
   so a skewed agent clock changes nothing, and a controller that just started
   gives every node a full grace period. A node not seen to change for
   `--node-monitor-grace-period` (default 15 s; Kubernetes: 40 s) gets every
   condition `Unknown`, reason `NodeStatusUnknown`, "Kubelet stopped posting
   node status.", and its pods Ready=False (MarkPodsNotReady), so the Endpoints
   drop them at once.
2. **Disruption** (`disruption.py`). Each pass sorts the nodes into zones and
   computes each zone's state from readiness as the controller judges it (a node
   whose grace ran out is not ready even when writing so failed, as it does while
   the apiserver or etcd is away). When every zone is in FullDisruption the
   controller removes its NoExecute taints and evicts nothing: the fault is the
   control plane's or the network's. When a node is Ready again, every node's
   grace period restarts from then, so after an outage the agents have a full
   grace period to renew before anyone is judged.
3. **Taints.** A node not Ready gets `node.kubernetes.io/unreachable:NoExecute`
   (Ready Unknown) or `node.kubernetes.io/not-ready:NoExecute` (Ready False),
   at most `--node-eviction-rate` nodes a second per zone (lower or nil in a
   PartialDisruption); a Ready node loses them at once, and a tainted node whose
   Ready status flips between False and Unknown has its taint swapped at once.
   A cordoned node (`spec.unschedulable`) gets `node.kubernetes.io/unschedulable:NoSchedule`,
   and the agent's pressure conditions (MemoryPressure, DiskPressure, PIDPressure
   True) get `node.kubernetes.io/memory-pressure`, `disk-pressure`, `pid-pressure`
   `:NoSchedule` (Kubernetes' TaintNodesByCondition).
4. **Eviction.** A pod on a node with such a taint is deleted once it has
   tolerated it for its toleration's `tolerationSeconds` (the apiserver's
   DefaultTolerationSeconds admission gives every pod 300 s for both keys unless
   it says otherwise); a pod with no matching toleration is deleted at once; a
   toleration without seconds tolerates for ever. The deletion is graceful: with
   the node's agent gone the pod stays Terminating, which is enough for its
   ReplicaSet to replace it and for a StatefulSet *not* to start its replacement
   until the old pod is really gone.

Pure decisions (`wanted_taints`, `eviction_due`, the zone states) are functions
of plain objects; the controller does the writes.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from apimachinery import errors, meta
from apimachinery.conditions import READY, find_condition, get_condition, ready_condition
from apimachinery.events import EventRecorder
from apimachinery.meta import Object, rfc3339

from .base import COMPONENT, Controller, ControllerClient, SharedInformerFactory
from .disruption import FULL, TokenBucket, zone_of, zone_qps, zone_state
from .nodehealth import NodeHealth

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


def ready_status(node: Object) -> str:
    return str((ready_condition(node) or {}).get("status", "Unknown"))


def _alive(node: Object) -> bool:
    """Ready, or Unknown only because this controller said so (its Lease moves again)."""
    ready = ready_condition(node) or {}
    return ready.get("status") == "True" or (ready.get("status") == "Unknown"
                                             and ready.get("reason") == UNKNOWN_REASON)


def wanted_taint_key(node: Object) -> str | None:
    """The NoExecute taint the node's Ready condition calls for, if any."""
    status = (ready_condition(node) or {}).get("status", "Unknown")
    return None if status == "True" else UNREACHABLE if status == "Unknown" else NOT_READY


def _cordon_taint(taint: Object) -> bool:
    return taint.get("key") == UNSCHEDULABLE and taint.get("effect") == "NoSchedule"


def lifecycle_taints(node: Object) -> list[Object]:
    """The NoExecute taints this controller owns on the node."""
    return [t for t in (node.get("spec") or {}).get("taints") or []
            if t.get("key") in NODE_TAINT_KEYS and t.get("effect") == "NoExecute"]


def _wanted_lifecycle(node: Object, now: datetime, may_add: bool, clear: bool) -> list[Object]:
    key = wanted_taint_key(node)
    mine = lifecycle_taints(node)
    if key is None or clear:
        return []
    same = [t for t in mine if t.get("key") == key]
    if same:
        return same[:1]
    if mine or may_add:  # a taint of the other key is swapped at once, as Kubernetes does
        return [{"key": key, "effect": "NoExecute", "timeAdded": rfc3339(now)}]
    return []


def pressure_taint_keys(node: Object) -> list[str]:
    """The NoSchedule taints the node's pressure conditions call for (TaintNodesByCondition)."""
    return [key for kind, key in PRESSURE_TAINTS.items()
            if (get_condition(node, kind) or {}).get("status") == "True"]


def _pressure_taint(taint: Object) -> bool:
    return taint.get("key") in PRESSURE_TAINTS.values() and taint.get("effect") == "NoSchedule"


def wanted_taints(node: Object, now: datetime, *, may_add: bool = True,
                  clear: bool = False) -> list[Object] | None:
    """The node's taints with the lifecycle, cordon and pressure taints right, or None if they
    already are. `may_add`: the zone's rate limit lets a new NoExecute taint on;
    `clear`: every zone is fully disrupted, so the NoExecute taints come off."""
    spec = node.get("spec") or {}
    taints = list(spec.get("taints") or [])
    mine = lifecycle_taints(node)
    wanted = _wanted_lifecycle(node, now, may_add, clear)
    cordoned = bool(spec.get("unschedulable"))
    pressure = pressure_taint_keys(node)
    held = [t for t in taints if _pressure_taint(t)]
    if mine == wanted and any(_cordon_taint(t) for t in taints) == cordoned and \
            sorted(t.get("key") for t in held) == sorted(pressure):
        return None
    kept = [t for t in taints if t not in mine and not _cordon_taint(t)
            and not _pressure_taint(t)]
    if cordoned:
        kept.append({"key": UNSCHEDULABLE, "effect": "NoSchedule"})
    kept.extend(next((t for t in held if t.get("key") == k), None)
                or {"key": k, "effect": "NoSchedule", "timeAdded": rfc3339(now)}
                for k in pressure)
    return kept + wanted


def toleration_seconds(pod: Object, taint: Object) -> float | None:
    """How long the pod tolerates the taint: its toleration's seconds, None for ever,
    0 without a matching toleration (Kubernetes evicts such a pod at once)."""
    for tol in (pod.get("spec") or {}).get("tolerations") or []:
        effect_ok = not tol.get("effect") or tol.get("effect") == taint.get("effect")
        key_ok = (tol.get("operator") == "Exists" and not tol.get("key")) or \
            tol.get("key") == taint.get("key")
        if effect_ok and key_ok:
            seconds = tol.get("tolerationSeconds")
            return None if seconds is None else max(0.0, float(seconds))
    return 0.0


@dataclass(frozen=True)
class Eviction:
    due: bool
    wait: float | None  # seconds until due; None when never


def eviction_due(pod: Object, taint: Object, now: datetime) -> Eviction:
    seconds = toleration_seconds(pod, taint)
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


@dataclass(frozen=True)
class Judgement:
    """One node as a monitor pass judged it."""

    name: str
    node: Object    # as judged: with the Unknown conditions written (or meant) this pass
    zone: str
    ready: bool     # counts as Ready for its zone's state
    taint: bool     # wants a NoExecute taint (stale, or the agent itself says NotReady)


class NodeLifecycleController(Controller):
    name = "nodelifecycle"

    def __init__(self, client: ControllerClient, factory: SharedInformerFactory, *,
                 grace_period: float = 15.0, monitor_period: float = 5.0,
                 eviction_rate: float = 0.1, secondary_eviction_rate: float = 0.01,
                 unhealthy_zone_threshold: float = 0.55, large_cluster_size: int = 50,
                 workers: int = 1, **kwargs: Any) -> None:
        super().__init__(client, factory, workers=workers, **kwargs)
        self.grace_period = grace_period
        self.monitor_period = monitor_period
        self.eviction_rate = eviction_rate
        self.secondary_eviction_rate = secondary_eviction_rate
        self.large_cluster_size = large_cluster_size
        self.unhealthy_zone_threshold = unhealthy_zone_threshold
        self.health = NodeHealth()
        self.zone_states: dict[str, str] = {}
        self.limiters: dict[str, TokenBucket] = {}
        self.waiting: dict[str, dict[str, None]] = defaultdict(dict)  # zone -> nodes, FIFO
        self.fully_disrupted = False
        self.control_plane_away = False
        self.unwritten: set[str] = set()  # nodes whose Unknown could not be written (logged once)
        self.nodes = factory.informer("nodes")
        self.leases = factory.informer("leases")
        self.pods = factory.informer("pods")
        factory.add_indexer("pods", NODE_NAME_INDEX, pod_node_index)
        self.recorder = EventRecorder(client, "node-controller", self.clock)  # type: ignore[arg-type]
        self.nodes.add_event_handler(self.enqueue, lambda _o, n: self.enqueue(n), self._forget)
        self.pods.add_event_handler(self._pod_changed, lambda _o, n: self._pod_changed(n), None)

    def _forget(self, node: Object) -> None:
        self.queue.forget(meta.name_of(node))
        self.health.forget(meta.name_of(node))

    def _pod_changed(self, pod: Object) -> None:
        for node in pod_node_index(pod):
            self.queue.add(node)

    # -- the monitor pass -------------------------------------------------------------------

    async def run(self) -> None:
        """The workers, and beside them a monitor pass every `monitor_period`."""
        monitor = asyncio.create_task(self._monitor_loop(), name=f"{self.name}-monitor")
        try:
            await super().run()
        finally:
            monitor.cancel()
            await asyncio.gather(monitor, return_exceptions=True)

    async def _monitor_loop(self) -> None:
        while True:
            try:
                await self.monitor()
            except Exception:  # a bug must not stop the node monitor for good
                self.log.exception("component=%s controller=%s monitor pass failed",
                                   COMPONENT, self.name)
            await self.clock.sleep(self.monitor_period)

    async def monitor(self) -> None:
        """One pass: judge every node, update the zone states, taint at the zones' rates."""
        now = self.clock.now()
        if not await self._control_plane_answers(now):
            return
        nodes = sorted(self.nodes.store.list(), key=meta.name_of)
        ages = self._observe(nodes, now)
        judged = [await self._judge(node, age, now) for node, age in zip(nodes, ages, strict=True)]
        zones: dict[str, list[Judgement]] = defaultdict(list)
        for j in judged:
            zones[j.zone].append(j)
        if await self._handle_disruption(zones, now):
            return
        if not self.fully_disrupted:
            await self._taint_pass(zones, now)
        # The per-node queue hears of every write here through the Node informer.

    async def _control_plane_answers(self, now: datetime) -> bool:
        """Whether the apiserver and etcd answer a read (the Lease namespace, from etcd).

        While they do not, this controller cannot see a Lease change, so it judges
        nothing and every node's grace period restarts each pass: once they answer
        again, every agent has a full grace period to get a renewal through. (A
        Kubernetes controller-manager gets the same from losing its leader Lease,
        exiting and starting with an empty nodeHealthMap.)"""
        try:
            await self.client.get("namespaces", LEASE_NAMESPACE)
        except errors.NotFound:
            pass
        except errors.APIError as exc:
            if not self.control_plane_away:
                self.decision("-", "control-plane-away", error=repr(str(exc)))
            self.control_plane_away = True
            self.health.reset(now)
            return False
        if self.control_plane_away:
            self.control_plane_away = False
            self.health.reset(now)
            self.decision("-", "control-plane-back", grace=f"{self.grace_period:g}s")
        return True

    def _observe(self, nodes: list[Object], now: datetime) -> list[float | None]:
        """Each node's heartbeat age; during a full disruption, 0 for all as soon as one
        node is alive again, before anything is judged (the others' agents may not have
        got through to renew yet)."""
        ages = [self.health.observe(meta.name_of(n), n,
                                    self.leases.store.get(f"{LEASE_NAMESPACE}/{meta.name_of(n)}"),
                                    now) for n in nodes]
        alive = any(age is not None and age <= self.grace_period and _alive(n)
                    for n, age in zip(nodes, ages, strict=True))
        if self.fully_disrupted and alive:
            self.health.reset(now)
            ages = [None if age is None else 0.0 for age in ages]
        return ages

    async def _judge(self, node: Object, age: float | None, now: datetime) -> Judgement:
        """Mark a node whose grace ran out Unknown; judge it for the zone and the tainter."""
        name = meta.name_of(node)
        stale = age is not None and age > self.grace_period
        if stale:
            node = await self._mark_unknown(name, node, now)
        status = ready_status(node)
        # A fresh heartbeat under an Unknown we wrote waits for the agent's next status:
        # it counts as alive, and is not judged again before its grace runs out.
        return Judgement(name, node, zone_of(node), ready=not stale and _alive(node),
                         taint=stale or status == "False")

    async def _handle_disruption(self, zones: dict[str, list[Judgement]],
                                 now: datetime) -> bool:
        """Kubernetes' handleDisruption; True when the pass should stop here."""
        states = {z: zone_state((j.ready for j in js), self.unhealthy_zone_threshold)
                  for z, js in zones.items()}
        all_full = bool(states) and all(s == FULL for s in states.values())
        self.zone_states = states
        for zone, state in states.items():
            qps = 0.0 if all_full else zone_qps(
                state, len(zones[zone]), rate=self.eviction_rate,
                secondary_rate=self.secondary_eviction_rate, large_cluster=self.large_cluster_size)
            self.limiters.setdefault(zone, TokenBucket(qps, self.clock)).set_qps(qps)
        if all_full and not self.fully_disrupted:
            self.fully_disrupted = True
            self.decision("-", "full-disruption", nodes=sum(len(js) for js in zones.values()))
            for js in zones.values():
                for j in js:
                    self.queue.add(j.name)  # its reconcile takes the NoExecute taints off
            return True
        if not all_full and self.fully_disrupted:
            self.fully_disrupted = False
            self.health.reset(now)
            self.waiting.clear()
            self.decision("-", "disruption-over", grace=f"{self.grace_period:g}s",
                          states=",".join(f"{z or '-'}={s}" for z, s in states.items()))
            return True
        return False

    async def _taint_pass(self, zones: dict[str, list[Judgement]], now: datetime) -> None:
        """Taint the nodes that want it, oldest first, as each zone's rate allows."""
        for zone, judged in zones.items():
            waiting = self.waiting[zone]
            wanted = {j.name: j.node for j in judged if j.taint and not lifecycle_taints(j.node)}
            for name in [n for n in waiting if n not in wanted]:
                del waiting[name]
            for name in sorted(wanted):
                waiting.setdefault(name)
            for name in list(waiting):
                if not self.limiters[zone].try_accept():
                    break
                waiting.pop(name)
                await self._write_taints(name, wanted[name], now, may_add=True)

    async def _mark_unknown(self, key: str, node: Object, now: datetime) -> Object:
        updated = with_unknown_conditions(node, now)
        if updated is None:
            return node
        try:
            node = await self.client.update_status("nodes", updated)
        except errors.APIError as exc:  # the apiserver or etcd away: judged here, written later
            if key not in self.unwritten:
                self.unwritten.add(key)
                self.decision(key, "node-unknown-unwritten", error=repr(str(exc)))
            return updated
        self.unwritten.discard(key)
        self.decision(key, "node-unknown", grace=f"{self.grace_period:g}s")
        self.recorder.record(node, "NodeNotReady", f"Node {key} status is now: NodeNotReady")
        for pod in self.pods.store.by_index(NODE_NAME_INDEX, key):
            not_ready = with_pod_not_ready(pod, now)
            if not_ready is not None:
                try:
                    await self.client.update_status("pods", not_ready)
                except errors.APIError:
                    continue  # gone, changed or unreachable: the next pass looks again
        return node

    async def _write_taints(self, key: str, node: Object, now: datetime, *,
                            may_add: bool) -> Object:
        taints = wanted_taints(node, now, may_add=may_add, clear=self.fully_disrupted)
        if taints is None:
            return node
        updated = meta.deep_copy(node)
        updated.setdefault("spec", {})["taints"] = taints
        try:
            node = await self.client.update("nodes", updated)
        except errors.APIError as exc:
            if may_add:  # the monitor's write: the next pass tries again
                self.log.info("component=%s controller=%s key=%s decision=taint-unwritten "
                              "error=%r", COMPONENT, self.name, key, str(exc))
                return node
            raise
        self.decision(key, "taints", taints=",".join(str(t.get("key")) for t in taints) or "-")
        return node

    # -- per node: taints off, cordon, evictions ---------------------------------------------

    async def reconcile(self, key: str) -> None:
        node = self.nodes.store.get(key)
        if node is None:
            return
        now = self.clock.now()
        node = await self._write_taints(key, node, now, may_add=False)
        wait = await self._evict(key, node, now)
        if wait is not None:
            self.queue.add_after(key, max(0.5, wait))

    async def _evict(self, key: str, node: Object, now: datetime) -> float | None:
        """Delete the pods whose toleration ran out; the seconds until the next one is due."""
        taint = next(iter(lifecycle_taints(node)), None)
        if taint is None or self.fully_disrupted:
            return None
        waits: list[float] = []
        for pod in self.pods.store.by_index(NODE_NAME_INDEX, key):
            if meta.metadata(pod).get("deletionTimestamp"):
                continue
            eviction = eviction_due(pod, taint, now)
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
