"""Node-pressure eviction: the kubelet's eviction manager, on the agent's clock.

Every `monitoring_interval` (the kubelet's 10 s housekeeping) `synchronize`
observes the signals (memory.available from the host's /proc/meminfo,
nodefs/imagefs.available from the runtime's filesystem), compares them with
`--eviction-hard`, and keeps the node's pressure conditions: a condition
raised by a threshold stays until `--eviction-pressure-transition-period`
(5m) has passed without the threshold met, so a node does not flap between
pressure and none. The Node's status is posted at once when the set changes
(the node lifecycle controller turns them into NoSchedule taints).

While a threshold is met: for disk, unused images go first (the kubelet
reclaims node-level resources before pods); if that does not clear it, one
pod is evicted per pass, the first of `ranking.rank` for the starved
resource, with the kubelet's message, a Warning `Evicted` event on the pod
and `EvictionThresholdMet` on the Node. The pod sync then fails it (phase
Failed, reason Evicted) and kills it at once (a hard threshold: no grace).
Each pass first evicts every pod with an emptyDir over its `sizeLimit` or a container
over its `limits.ephemeral-storage` (`localstorage.py`), pressure or not, as the
kubelet's localStorageEviction.
`admit` is the kubelet's admission under pressure: a pod new to the node is
failed the same way, "The node had condition: [DiskPressure]. ", before it runs.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from agent.eviction import localstorage, ranking, signals
from agent.eviction.signals import MEMORY, Observation, Threshold
from agent.runtime.container import ContainerRuntimeError
from agent.runtime.protocol import ContainerRuntime
from apimachinery import errors
from apimachinery.clock import Clock
from apimachinery.events import EventRecorder
from apimachinery.meta import Object

log = logging.getLogger(__name__)
TERMINAL = ("Succeeded", "Failed")


def _default_hard() -> tuple[Threshold, ...]:
    return tuple(signals.parse_thresholds(signals.DEFAULT_EVICTION_HARD))


def read_host_meminfo() -> str:
    return Path("/proc/meminfo").read_text()


@dataclass(frozen=True)
class EvictionConfig:
    hard: tuple[Threshold, ...] = field(default_factory=_default_hard)
    pressure_transition_period: float = 300.0
    monitoring_interval: float = 10.0


class EvictionManager:
    def __init__(self, runtime: ContainerRuntime, clock: Clock, recorder: EventRecorder,
                 node_name: str, config: EvictionConfig, *, pods: Callable[[], Iterable[Object]],
                 evict: Callable[[str, str], None],
                 reclaim_disk: Callable[[], Awaitable[int]] | None = None,
                 meminfo: Callable[[], str] = read_host_meminfo) -> None:
        self._runtime, self._clock, self._recorder = runtime, clock, recorder
        self._node, self.config = node_name, config
        self._pods, self._evict, self._reclaim_disk = pods, evict, reclaim_disk
        self._meminfo = meminfo
        self.pressure: set[str] = set()  # node conditions under pressure now
        self.on_pressure_change: Callable[[], Awaitable[object]] | None = None
        self._last_met: dict[str, float] = {}  # condition -> when last seen met
        self.evicted: list[str] = []  # uids, in the order evicted

    async def run(self) -> None:
        while True:
            await self._clock.sleep(self.config.monitoring_interval)
            try:
                await self.synchronize()
            except (ContainerRuntimeError, OSError) as exc:
                log.warning("component=agent eviction pass failed node=%s error=%s", self._node,
                            exc)

    async def observe(self) -> dict[str, Observation]:
        fs = await self._runtime.image_fs()
        disk = Observation(fs.available, fs.capacity)
        return {MEMORY: signals.read_meminfo(self._meminfo()), signals.NODEFS: disk,
                signals.IMAGEFS: disk}

    async def _set_pressure(self, met: list[Threshold]) -> None:
        now = self._clock.monotonic()
        for condition in signals.conditions_of(met):
            self._last_met[condition] = now
        pressure = {c for c, seen in self._last_met.items()
                    if now - seen < self.config.pressure_transition_period}
        pressure |= signals.conditions_of(met)
        if pressure == self.pressure:
            return
        log.info("component=agent node pressure node=%s conditions=%s", self._node,
                 ",".join(sorted(pressure)) or "none")
        self.pressure = pressure
        if self.on_pressure_change is not None:
            try:
                await self.on_pressure_change()
            except errors.APIError as exc:
                log.warning("component=agent posting node pressure failed error=%s", exc.message)

    async def synchronize(self) -> str | None:
        """One pass; the uid of the pod evicted, if one was."""
        await self._enforce_storage_limits()
        observed = await self.observe()
        met = signals.thresholds_met(self.config.hard, observed)
        await self._set_pressure(met)
        if not met:
            return None
        threshold = min(met, key=lambda t: t.signal != MEMORY)  # memory is reclaimed first
        resource = signals.SIGNALS[threshold.signal][1]
        self._recorder.record(self._node_ref(), "EvictionThresholdMet",
                              f"Attempting to reclaim {resource}", warning=True)
        if threshold.signal != MEMORY and self._reclaim_disk is not None:
            await self._reclaim_disk()
            observed = await self.observe()
            if not any(t.signal == threshold.signal
                       for t in signals.thresholds_met([threshold], observed)):
                log.info("component=agent node-level reclaim cleared %s node=%s",
                         threshold.signal, self._node)
                return None
        return await self._evict_one(threshold, observed[threshold.signal], resource)

    async def _evict_one(self, threshold: Threshold, observed: Observation,
                         resource: str) -> str | None:
        usage = await self._runtime.pod_usage()
        active = [p for p in self._pods() if self._evictable(p)]
        ranked = ranking.rank(ranking.candidate(p, usage.get(_uid(p), []), resource)
                              for p in active)
        if not ranked:
            log.warning("component=agent eviction: no pod to evict node=%s threshold=%s",
                        self._node, threshold.signal)
            return None
        pod = ranked[0].pod
        uid = _uid(pod)
        message = ranking.eviction_message(threshold, observed, pod,
                                           {u.name: u for u in usage.get(uid, [])})
        log.info("component=agent evicting pod=%s/%s uid=%s message=%r",
                 pod["metadata"].get("namespace"), pod["metadata"].get("name"), uid, message)
        self._recorder.record(pod, "Evicted", message, warning=True)
        self.evicted.append(uid)
        self._evict(uid, message)
        return uid

    async def _enforce_storage_limits(self) -> list[str]:
        """Evict every pod with an emptyDir over its sizeLimit or a container over its
        ephemeral-storage limit (localstorage.py); the runtime's (costly) usage figures are
        read only when some pod has such a limit."""
        active = [p for p in self._pods() if self._evictable(p)]
        sized = [p for p in active if localstorage.emptydir_limits(p)]
        found = localstorage.volumes_over_limit(sized, await self._runtime.volume_usage()) \
            if sized else []
        done = {_uid(p) for p, _ in found}
        limited = [p for p in active if localstorage.limits(p) and _uid(p) not in done]
        if limited:
            found += localstorage.over_limit(limited, await self._runtime.pod_usage())
        evicted = []
        for pod, message in found:
            uid = _uid(pod)
            log.info("component=agent evicting pod=%s/%s uid=%s message=%r",
                     pod["metadata"].get("namespace"), pod["metadata"].get("name"), uid,
                     message)
            self._recorder.record(pod, "Evicted", message, warning=True)
            self.evicted.append(uid)
            self._evict(uid, message)
            evicted.append(uid)
        return evicted

    def _evictable(self, pod: Object) -> bool:
        meta, status = pod.get("metadata") or {}, pod.get("status") or {}
        return (status.get("phase") not in TERMINAL and not meta.get("deletionTimestamp")
                and _uid(pod) not in self.evicted)

    def admit(self, pod: Object) -> str | None:
        """Why a pod new to the node is refused now, in the kubelet's words, or None: under
        MemoryPressure a BestEffort pod, under DiskPressure any pod (critical pods never)."""
        spec, status = pod.get("spec") or {}, pod.get("status") or {}
        if int(spec.get("priority") or 0) >= ranking.CRITICAL_PRIORITY:
            return None
        refused = sorted(c for c in self.pressure if c == "DiskPressure" or (
            c == "MemoryPressure" and status.get("qosClass") == "BestEffort"))
        return f"The node had condition: [{', '.join(refused)}]. " if refused else None

    def _node_ref(self) -> Object:
        return {"kind": "Node", "apiVersion": "v1",
                "metadata": {"name": self._node, "uid": self._node, "namespace": "default"}}


def _uid(pod: Object) -> str:
    return str((pod.get("metadata") or {}).get("uid") or "")


__all__ = ["EvictionConfig", "EvictionManager"]
