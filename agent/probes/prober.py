"""Probe workers, their results and the manager that runs them (kubelet's pkg/kubelet/prober).

Each (pod, container, probe kind) with a probe gets one `ProbeWorker`, an
asyncio task started once the container runs (`ProbeManager.update_pod`, the
kubelet's AddPod) and stopped when the pod goes (`remove_pod`), so a slow or
hanging probe holds up nothing but itself. A worker probes every
periodSeconds and turns runs into a result by the kubelet's thresholds:
failureThreshold failures in a row make it a failure, successThreshold
successes a success; in between the last result stands. Results live in one
`Results` cache per kind (`results.py`), keyed by container ID, so a
restarted container (a new ID) starts afresh: readiness false, liveness true,
startup unknown, as the kubelet's workers reset on a new container ID.

The pod sync is the only reader. It feeds the manager what it observed (the
pod, its IP, the newest instance of each container) in place of the kubelet's
status manager, reads `ready`/`started` when it builds containerStatuses, and
passes `unhealthy(uid)` (containers whose liveness or startup probe failed) to
the pure `compute_pod_actions`, which kills them. Any change of a result calls
`on_change(pod_uid)`, the agent's `PodWorkers.update`, so the pod is re-synced
at once, as the kubelet's syncLoop wakes on probe results. The kubelet's rules
kept here: startup holds liveness and readiness back until it passes; a failed
liveness or startup result puts the worker on hold until a new container ID;
a pod being deleted stops its liveness and startup probes quietly.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from agent.podsync.phases import TERMINAL_PHASES, restart_policy
from agent.probes.results import INITIAL, ProbeType, Results
from agent.probes.runner import ProbeError, ProbeRunner, Result
from agent.runtime.container import ContainerRecord, PodObservation
from apimachinery.clock import Clock
from apimachinery.events import EventRecorder
from apimachinery.meta import Object

log = logging.getLogger(__name__)
MAX_PROBE_RETRIES = 3  # an errored probe is retried at once this often (kubelet's maxProbeRetries)
DEFAULT_PERIOD = 10
DEFAULT_SUCCESS_THRESHOLD = 1
DEFAULT_FAILURE_THRESHOLD = 3


@dataclass(frozen=True)
class ProbeKey:
    pod_uid: str
    container: str
    kind: ProbeType


@dataclass(frozen=True)
class PodView:
    """What the last pod sync saw: the worker's stand-in for the kubelet's status manager."""

    pod: Object
    pod_ip: str
    containers: dict[str, ContainerRecord]  # the newest started instance per container name


def _ignore(pod_uid: str) -> None:
    return None


def _probe_int(probe: Object, key: str, default: int) -> int:
    value = probe.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 \
        else default


def _container_spec(pod: Object, name: str) -> Object:
    containers = (pod.get("spec") or {}).get("containers") or []
    return next((c for c in containers if isinstance(c, dict) and c.get("name") == name), {})


def _describe(pod: Object, container: str) -> str:
    meta = pod.get("metadata") or {}
    return f"{meta.get('namespace')}/{meta.get('name')} container={container}"


class ProbeWorker:
    """Probes one container's probe of one kind every periodSeconds (kubelet's worker)."""

    def __init__(self, manager: ProbeManager, key: ProbeKey) -> None:
        self.manager, self.key = manager, key
        self.results = manager.results[key.kind]
        self.trigger = asyncio.Event()  # probe now (a new container instance appeared)
        self.container_id = ""
        self.last_result: bool | None = None
        self.result_run = 0  # how many runs in a row gave `last_result`
        self.on_hold = False  # liveness/startup failed: wait for a new container
        self.task: asyncio.Task[None] | None = None

    async def run(self) -> None:
        clock = self.manager.clock
        next_tick = clock.monotonic()
        try:
            while await self._do_probe_safely():
                next_tick = _next_tick(next_tick, self._period(), clock.monotonic())
                await self._wait(next_tick - clock.monotonic())
        finally:
            self.manager.finished(self)

    async def _do_probe_safely(self) -> bool:
        """A bug in one probe is logged and the worker goes on (kubelet's HandleCrash)."""
        try:
            return await self.do_probe()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("component=agent probe crashed pod_uid=%s container=%s probe=%s",
                          self.key.pod_uid, self.key.container, self.key.kind.value)
            return True

    def forget(self) -> None:
        """Drop this worker's result (it stops)."""
        if self.container_id:
            self.results.remove(self.container_id)

    def _probe(self, view: PodView) -> Object | None:
        probe = _container_spec(view.pod, self.key.container).get(self.key.kind.field)
        return probe if isinstance(probe, dict) else None

    def _period(self) -> float:
        view = self.manager.view(self.key.pod_uid)
        probe = self._probe(view) if view is not None else None
        return float(_probe_int(probe or {}, "periodSeconds", DEFAULT_PERIOD))

    async def _wait(self, seconds: float) -> None:
        """Until the next tick or a trigger, whichever comes first."""
        if not self.trigger.is_set():
            trigger = asyncio.ensure_future(self.trigger.wait())
            timer = asyncio.ensure_future(self.manager.clock.sleep(seconds))
            try:
                await asyncio.wait((trigger, timer), return_when=asyncio.FIRST_COMPLETED)
            finally:
                pending = [t for t in (trigger, timer) if not t.done()]
                for task in pending:
                    task.cancel()
                if pending:
                    await asyncio.wait(pending)
        self.trigger.clear()

    def _new_container(self, record: ContainerRecord) -> None:
        """A new instance: its result starts from the initial value, thresholds from zero."""
        self.forget()
        self.container_id = record.id
        initial = INITIAL[self.key.kind]
        if initial is not None:
            self.results.set(record.id, initial, self.key.pod_uid)
        self.on_hold, self.last_result, self.result_run = False, None, 0

    async def do_probe(self) -> bool:
        """Probe once if it is time to; whether the worker should go on (kubelet's doProbe)."""
        view = self.manager.view(self.key.pod_uid)
        if view is None:
            return True  # not seen yet
        pod = view.pod
        if (pod.get("status") or {}).get("phase") in TERMINAL_PHASES:
            return False
        probe = self._probe(view)
        if probe is None:
            return False  # the probe is gone from the spec
        record = view.containers.get(self.key.container)
        if record is None:
            return True  # not created yet
        if record.id != self.container_id:
            self._new_container(record)
        if self.on_hold:
            return True
        if not record.running:
            self.results.set(record.id, False, self.key.pod_uid)
            return not (record.dead and restart_policy(pod.get("spec") or {}) == "Never")
        if (pod.get("metadata") or {}).get("deletionTimestamp") and \
                self.key.kind is not ProbeType.READINESS:
            self.results.set(record.id, True, self.key.pod_uid)  # a quiet shutdown
            return False
        if not self._due(probe, record):
            return True
        result = await self._run(pod, probe, record, view.pod_ip)
        if result is not None:
            self._decide(pod, probe, record, result)
        return True

    def _due(self, probe: Object, record: ContainerRecord) -> bool:
        """Past initialDelaySeconds, and startup passed (or, for startup itself, not yet)."""
        if record.started_at is not None:
            running = (self.manager.clock.now() - record.started_at).total_seconds()
            if int(running) < _probe_int(probe, "initialDelaySeconds", 0):
                return False
        started = self.manager.started(self.key.container, record)
        return not started if self.key.kind is ProbeType.STARTUP else started

    async def _run(self, pod: Object, probe: Object, record: ContainerRecord,
                   pod_ip: str) -> Result | None:
        """One probe (retried when it errors); the event the kubelet records for it."""
        container = _container_spec(pod, self.key.container)
        kind, name = self.key.kind.value, self.key.container
        error: ProbeError | None = None
        for _ in range(MAX_PROBE_RETRIES):
            try:
                result = await self.manager.runner.run(probe, container, record.id, pod_ip)
            except ProbeError as exc:
                error = exc
                continue
            if not result.success:
                self.manager.recorder.record(pod, "Unhealthy",
                                             f"{kind} probe failed: {result.output}",
                                             container=name, warning=True)
            return result
        log.warning("component=agent probe errored pod=%s probe=%s error=%s", _describe(pod, name),
                    kind, error)
        self.manager.recorder.record(
            pod, "Unhealthy", f"{kind} probe errored and resulted in unknown state: {error}",
            container=name, warning=True)
        return None

    def _decide(self, pod: Object, probe: Object, record: ContainerRecord,
                result: Result) -> None:
        """Apply the thresholds; a decided result goes to the cache (kubelet's resultRun)."""
        if result.success == self.last_result:
            self.result_run += 1
        else:
            self.last_result, self.result_run = result.success, 1
        needed = _probe_int(probe, "successThreshold", DEFAULT_SUCCESS_THRESHOLD) \
            if result.success else \
            _probe_int(probe, "failureThreshold", DEFAULT_FAILURE_THRESHOLD)
        if self.result_run < needed:
            return
        if self.results.get(record.id) is not result.success:
            log.info("component=agent probe result pod=%s probe=%s result=%s output=%r",
                     _describe(pod, self.key.container), self.key.kind.value,
                     "success" if result.success else "failure", result.output[:200])
        self.results.set(record.id, result.success, self.key.pod_uid)
        if not result.success and self.key.kind is not ProbeType.READINESS:
            self.on_hold, self.result_run = True, 0  # it will be killed: wait for a new one


def _next_tick(tick: float, period: float, now: float) -> float:
    """The next tick of a ticker started at `tick`; ticks missed while probing are dropped."""
    tick += period
    while tick <= now:
        tick += period
    return tick


class ProbeManager:
    """Starts and stops probe workers and answers the pod sync from their results."""

    def __init__(self, runner: ProbeRunner, recorder: EventRecorder, clock: Clock,
                 on_change: Callable[[str], None] = _ignore) -> None:
        self.runner, self.recorder, self.clock = runner, recorder, clock
        self.results = {kind: Results(on_change) for kind in ProbeType}
        self._views: dict[str, PodView] = {}
        self._workers: dict[ProbeKey, ProbeWorker] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def __len__(self) -> int:
        return len(self._workers)

    def view(self, pod_uid: str) -> PodView | None:
        return self._views.get(pod_uid)

    # -- fed by the pod sync ------------------------------------------------------------

    def update_pod(self, pod: Object, observed: PodObservation) -> None:
        """Record what the sync saw; start workers for running containers with probes."""
        uid = str((pod.get("metadata") or {}).get("uid") or "")
        if (pod.get("status") or {}).get("phase") in TERMINAL_PHASES:
            self.remove_pod(uid)
            return
        sandbox = observed.running_sandbox
        pod_ip = sandbox.ip if sandbox is not None and sandbox.ip else str(
            (pod.get("status") or {}).get("podIP") or "")
        containers = [c for c in (pod.get("spec") or {}).get("containers") or []
                      if isinstance(c, dict)]
        latest = {name: record for c in containers
                  if (record := observed.latest(name := str(c.get("name")))) is not None}
        old = self._views.get(uid)
        self._views[uid] = PodView(pod, pod_ip, latest)
        for c in containers:
            name = str(c.get("name"))
            record = latest.get(name)
            before = old.containers.get(name) if old is not None else None
            renewed = record is not None and (before is None or before.id != record.id)
            for kind in ProbeType:
                self._ensure_worker(ProbeKey(uid, name, kind), isinstance(c.get(kind.field), dict),
                                    record, renewed)

    def _ensure_worker(self, key: ProbeKey, wanted: bool, record: ContainerRecord | None,
                       renewed: bool) -> None:
        worker = self._workers.get(key)
        if not wanted:
            if worker is not None:
                self._stop(worker)
        elif worker is None:
            if record is not None and record.running:
                self._start(key)
        elif renewed:
            worker.trigger.set()  # a new instance: probe it without waiting a period

    def _start(self, key: ProbeKey) -> None:
        worker = self._workers[key] = ProbeWorker(self, key)
        worker.task = asyncio.create_task(
            worker.run(), name=f"probe {key.kind.value} {key.pod_uid}/{key.container}")
        self._tasks.add(worker.task)
        worker.task.add_done_callback(self._tasks.discard)

    def _stop(self, worker: ProbeWorker) -> None:
        self.finished(worker)
        if worker.task is not None:
            worker.task.cancel()

    def finished(self, worker: ProbeWorker) -> None:
        """A worker ends (by itself or stopped): forget it and its result."""
        if self._workers.get(worker.key) is worker:
            del self._workers[worker.key]
            worker.forget()

    def stop_liveness_and_startup(self, pod_uid: str) -> None:
        """The pod is terminating: no more liveness or startup kills (kubelet's same name)."""
        for key, worker in list(self._workers.items()):
            if key.pod_uid == pod_uid and key.kind is not ProbeType.READINESS:
                self._stop(worker)

    def remove_pod(self, pod_uid: str) -> None:
        """The pod is gone: stop its workers and drop its results (kubelet's RemovePod)."""
        for key, worker in list(self._workers.items()):
            if key.pod_uid == pod_uid:
                self._stop(worker)
        self._views.pop(pod_uid, None)

    async def stop(self) -> None:
        """Stop every worker and close the HTTP client."""
        for worker in list(self._workers.values()):
            self._stop(worker)
        if self._tasks:
            await asyncio.wait(list(self._tasks))
        self._views.clear()
        await self.runner.aclose()

    # -- read by the pod sync -----------------------------------------------------------

    def _has_worker(self, record: ContainerRecord, name: str, kind: ProbeType) -> bool:
        return ProbeKey(record.pod_uid, name, kind) in self._workers

    def started(self, name: str, record: ContainerRecord) -> bool:
        """Whether the startup probe passed, or there is none (containerStatuses' `started`)."""
        result = self.results[ProbeType.STARTUP].get(record.id)
        if result is not None:
            return result
        return not self._has_worker(record, name, ProbeType.STARTUP)

    def ready(self, name: str, record: ContainerRecord) -> bool:
        """Started and the readiness probe passed, or there is none (pod_status.py's Readiness)."""
        if not self.started(name, record):
            return False
        result = self.results[ProbeType.READINESS].get(record.id)
        if result is not None:
            return result
        return not self._has_worker(record, name, ProbeType.READINESS)

    def unhealthy(self, pod_uid: str) -> dict[str, str]:
        """Container IDs whose liveness or startup probe failed -> the probe, for the kill."""
        failed = {cid: "startup" for cid in self.results[ProbeType.STARTUP].failed(pod_uid)}
        failed.update({cid: "liveness"
                       for cid in self.results[ProbeType.LIVENESS].failed(pod_uid)})
        return failed


__all__ = ["PodView", "ProbeKey", "ProbeManager", "ProbeType", "ProbeWorker"]
