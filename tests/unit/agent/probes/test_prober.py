"""ProbeManager and its workers on a fake clock and a scripted prober; then with PodSyncer."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from agent.podsync.backoff import Backoff
from agent.podsync.images import ImageManager
from agent.podsync.pod_sync import PodSyncer
from agent.probes.prober import ProbeManager
from agent.probes.runner import ProbeError, Result
from agent.runtime.container import ContainerRecord, PodObservation, State
from apimachinery.clock import FakeClock
from apimachinery.events import EventRecorder
from apimachinery.meta import Object
from tests.unit.agent.fakes import FakeClient, FakeRuntime
from tests.unit.agent.helpers import NOW, UID, make_pod, rec, sandbox

FAIL = Result(False, "it hurts")
PASS = Result(True)


def run(body: Callable[[], Awaitable[None]]) -> None:
    async def main() -> None:
        await body()
        leftover = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        assert leftover == [], f"leaked tasks: {leftover}"
    asyncio.run(main())


async def settle() -> None:
    for _ in range(30):
        await asyncio.sleep(0)


class FakeRunner:
    """Answers each exec probe by its command's first word; records (word, container id)."""

    def __init__(self, **answers: Result | ProbeError) -> None:
        self.answers: dict[str, Result | ProbeError] = dict(answers)
        self.calls: list[tuple[str, str]] = []

    async def run(self, probe: Object, container: Object, container_id: str,
                  pod_ip: str) -> Result:
        word = probe["exec"]["command"][0]
        self.calls.append((word, container_id))
        answer = self.answers[word]
        if isinstance(answer, ProbeError):
            raise answer
        return answer

    def count(self, word: str) -> int:
        return sum(1 for w, _ in self.calls if w == word)

    async def aclose(self) -> None:
        return None


def probe(word: str, **timing: int) -> Object:
    return {"exec": {"command": [word]}, "periodSeconds": 1, **timing}


def probed_pod(policy: str = "Always", **probes: Object) -> Object:
    pod = make_pod("a", policy=policy)
    pod["spec"]["containers"][0].update(probes)
    return pod


class World:
    def __init__(self, **answers: Result | ProbeError) -> None:
        self.clock = FakeClock(wall=NOW)
        self.client = FakeClient()
        self.recorder = EventRecorder(self.client, "kubelet", self.clock,  # type: ignore[arg-type]
                                      host="n1")
        self.runner = FakeRunner(**answers)
        self.changes: list[str] = []
        self.manager = ProbeManager(self.runner, self.recorder, self.clock,  # type: ignore[arg-type]
                                    on_change=self.changes.append)

    def see(self, pod: Object, *records: ContainerRecord) -> None:
        self.manager.update_pod(pod, PodObservation.of([sandbox(), *records]))

    async def tick(self, seconds: float = 1) -> None:
        self.clock.step(seconds)
        await settle()

    def events(self) -> list[tuple[str, str]]:
        queue: asyncio.Queue[Any] = self.recorder._queue
        found = [queue.get_nowait().event for _ in range(queue.qsize())]
        return [(e["reason"], e["message"]) for e in found]


def test_readiness_is_false_until_the_probe_passes_and_false_again_after_failures() -> None:
    world = World(ready=FAIL)
    a = rec("a")

    async def body() -> None:
        world.see(probed_pod(readinessProbe=probe("ready", failureThreshold=2)), a)
        assert not world.manager.ready("a", a)  # a probe that has not run yet: not ready
        await settle()
        assert world.runner.calls == [("ready", "a-0")]
        assert world.events() == [("Unhealthy", "Readiness probe failed: it hurts")]
        world.runner.answers["ready"] = PASS
        await world.tick()
        assert world.manager.ready("a", a) and world.manager.started("a", a)
        world.runner.answers["ready"] = FAIL
        await world.tick()
        assert world.manager.ready("a", a)  # one failure of two
        await world.tick()
        assert not world.manager.ready("a", a)
        await world.manager.stop()
    run(body)
    assert world.changes == [UID, UID, UID]  # the initial false, true, false


def test_readiness_needs_success_threshold_passes_in_a_row() -> None:
    world = World(ready=PASS)
    a = rec("a")

    async def body() -> None:
        world.see(probed_pod(readinessProbe=probe("ready", successThreshold=2)), a)
        await settle()
        assert not world.manager.ready("a", a)
        await world.tick()
        assert world.manager.ready("a", a)
        await world.manager.stop()
    run(body)


def test_a_container_without_probes_is_ready_and_started_and_gets_no_worker() -> None:
    world = World()
    a = rec("a")

    async def body() -> None:
        world.see(make_pod("a"), a)
        assert len(world.manager) == 0
        assert world.manager.ready("a", a) and world.manager.started("a", a)
        await world.manager.stop()
    run(body)


def test_liveness_fails_after_failure_threshold_then_waits_for_a_new_container() -> None:
    world = World(live=FAIL)
    pod = probed_pod(livenessProbe=probe("live", failureThreshold=3))
    first = rec("a")

    async def body() -> None:
        world.see(pod, first)
        await settle()
        await world.tick()
        assert world.manager.unhealthy(UID) == {}  # two failures of three
        await world.tick()
        assert world.manager.unhealthy(UID) == {"a-0": "liveness"}
        await world.tick(5)
        assert world.runner.count("live") == 3  # on hold: it is about to be killed
        second = rec("a", restarts=1)
        world.see(pod, second, rec("a", state=State.EXITED, exit_code=137))
        await settle()  # a new instance is probed at once, from a clean slate
        assert world.runner.calls[-1] == ("live", "a-1")
        assert world.manager.unhealthy(UID) == {}
        await world.manager.stop()
    run(body)
    assert world.events() == [("Unhealthy", "Liveness probe failed: it hurts")] * 4


def test_a_startup_probe_holds_liveness_and_readiness_back_until_it_passes() -> None:
    world = World(start=FAIL, live=PASS, ready=PASS)
    a = rec("a")
    pod = probed_pod(startupProbe=probe("start", failureThreshold=10),
                     livenessProbe=probe("live"), readinessProbe=probe("ready"))

    async def body() -> None:
        world.see(pod, a)
        await settle()
        await world.tick()
        assert [w for w, _ in world.runner.calls] == ["start", "start"]
        assert not world.manager.started("a", a) and not world.manager.ready("a", a)
        world.runner.answers["start"] = PASS
        await world.tick()
        assert world.manager.started("a", a) and not world.manager.ready("a", a)
        await world.tick()
        assert world.manager.ready("a", a)
        await world.tick(3)
        assert world.runner.count("start") == 3  # done once it passed
        assert world.runner.count("live") >= 2 and world.runner.count("ready") >= 2
        await world.manager.stop()
    run(body)


def test_a_failed_startup_probe_marks_the_container_for_a_kill() -> None:
    world = World(start=FAIL, live=PASS)
    a = rec("a")

    async def body() -> None:
        world.see(probed_pod(startupProbe=probe("start", failureThreshold=2),
                             livenessProbe=probe("live")), a)
        await settle()
        await world.tick()
        assert world.manager.unhealthy(UID) == {"a-0": "startup"}
        assert world.runner.count("live") == 0
        await world.manager.stop()
    run(body)


def test_no_probe_before_initial_delay_seconds() -> None:
    world = World(ready=PASS)
    a = rec("a")  # started 90 s before NOW

    async def body() -> None:
        world.see(probed_pod(readinessProbe={**probe("ready", initialDelaySeconds=120),
                                             "periodSeconds": 10}), a)
        await settle()
        await world.tick(10)
        await world.tick(10)
        assert world.runner.calls == []
        await world.tick(10)
        assert world.runner.calls == [("ready", "a-0")]
        await world.manager.stop()
    run(body)


def test_an_errored_probe_is_retried_reported_and_not_counted() -> None:
    world = World(ready=ProbeError("port metrics not found in container a"))
    a = rec("a")

    async def body() -> None:
        world.see(probed_pod(readinessProbe=probe("ready", failureThreshold=1)), a)
        await settle()
        assert world.runner.count("ready") == 3
        assert world.events() == [("Unhealthy", "Readiness probe errored and resulted in "
                                   "unknown state: port metrics not found in container a")]
        assert world.manager.results["Readiness"].get("a-0") is False  # the initial value
        await world.manager.stop()
    run(body)


def test_workers_start_only_for_running_containers_of_live_pods() -> None:
    world = World(live=PASS)
    pod = probed_pod(livenessProbe=probe("live"))

    async def body() -> None:
        world.see(pod)  # not created yet
        world.see(pod, rec("a", state=State.EXITED, exit_code=1))
        assert len(world.manager) == 0
        done = copy.deepcopy(pod)
        done["status"]["phase"] = "Succeeded"
        world.see(done, rec("a"))
        assert len(world.manager) == 0
        world.see(pod, rec("a"))
        world.see(pod, rec("a"))  # once per container and kind
        assert len(world.manager) == 1
        await world.manager.stop()
    run(body)


def test_a_dead_container_that_will_not_restart_ends_its_worker() -> None:
    world = World(ready=PASS)
    pod = probed_pod(policy="Never", readinessProbe=probe("ready"))

    async def body() -> None:
        world.see(pod, rec("a"))
        await settle()
        world.see(pod, rec("a", state=State.EXITED, exit_code=1))
        await world.tick()
        assert len(world.manager) == 0
        await world.manager.stop()
    run(body)


def test_terminating_stops_liveness_and_startup_and_removal_stops_the_rest() -> None:
    world = World(start=PASS, live=FAIL, ready=PASS)
    a = rec("a")

    async def body() -> None:
        world.see(probed_pod(startupProbe=probe("start"), livenessProbe=probe("live"),
                             readinessProbe=probe("ready")), a)
        assert len(world.manager) == 3
        world.manager.stop_liveness_and_startup(UID)
        assert len(world.manager) == 1
        await settle()
        assert world.runner.count("live") == 0
        world.manager.remove_pod(UID)
        assert len(world.manager) == 0 and world.manager.view(UID) is None
        assert world.manager.unhealthy(UID) == {}
        await world.manager.stop()
    run(body)


# -- with the pod sync -----------------------------------------------------------------

class SyncWorld(World):
    def __init__(self, tmp_path: Path, pod: Object, **answers: Result | ProbeError) -> None:
        super().__init__(**answers)
        self.pod = pod
        self.runtime = FakeRuntime(self.clock)
        self.syncer = PodSyncer(
            client=self.client, runtime=self.runtime,  # type: ignore[arg-type]
            recorder=self.recorder, images=ImageManager(self.runtime, self.recorder,
                                                        Backoff(self.clock), self.clock),
            backoff=Backoff(self.clock), clock=self.clock,
            pod_by_uid=lambda uid: self.pod if uid == UID else None, node_ip="192.0.2.10",
            root_dir=tmp_path, sandbox_image="schooner/busybox:latest", prober=self.manager)

    def container_status(self) -> Object:
        cs: Object = self.client.statuses()[-1]["containerStatuses"][0]
        return cs

    def condition(self, kind: str) -> str:
        status = self.client.statuses()[-1]
        return next(c["status"] for c in status["conditions"] if c["type"] == kind)

    def accept_status(self) -> None:
        self.pod = {**self.pod, "status": self.client.statuses()[-1]}


def test_a_failed_liveness_probe_kills_the_container_and_starts_it_again(
        tmp_path: Path) -> None:
    world = SyncWorld(tmp_path, probed_pod(livenessProbe=probe("live", failureThreshold=1)),
                      live=FAIL)

    async def body() -> None:
        await world.syncer.sync(UID)
        await settle()
        assert world.changes == [UID, UID]  # alive at first, then failed: sync again
        world.accept_status()
        await world.syncer.sync(UID)
        await world.manager.stop()
    run(body)
    assert world.runtime.actions()[-2:] == [("stop", "a/30"), ("run", "schooner_a_p_ns_uid-1_1")]
    events = world.events()
    assert ("Unhealthy", "Liveness probe failed: it hurts") in events
    assert "Killing" in [reason for reason, _ in events]
    cs = world.container_status()
    assert cs["restartCount"] == 1 and "running" in cs["state"]


def test_readiness_reaches_the_container_status_and_the_pod_conditions(
        tmp_path: Path) -> None:
    world = SyncWorld(tmp_path, probed_pod(readinessProbe=probe("ready")), ready=FAIL)

    async def body() -> None:
        await world.syncer.sync(UID)
        assert (world.container_status()["ready"], world.condition("Ready")) == (False, "False")
        assert world.condition("ContainersReady") == "False"
        world.accept_status()
        world.runner.answers["ready"] = PASS
        await world.tick()
        assert world.changes[-1] == UID  # the worker asks for a sync...
        await world.syncer.sync(UID)  # ...which writes the new readiness
        assert (world.container_status()["ready"], world.condition("Ready")) == (True, "True")
        await world.manager.stop()
    run(body)


def test_started_is_false_in_the_status_until_the_startup_probe_passes(tmp_path: Path) -> None:
    world = SyncWorld(tmp_path, probed_pod(startupProbe=probe("start", failureThreshold=9)),
                      start=FAIL)

    async def body() -> None:
        await world.syncer.sync(UID)
        cs = world.container_status()
        assert (cs["started"], cs["ready"]) == (False, False) and "running" in cs["state"]
        world.accept_status()
        world.runner.answers["start"] = PASS
        await world.tick()
        await world.syncer.sync(UID)
        cs = world.container_status()
        assert (cs["started"], cs["ready"]) == (True, True)
        await world.manager.stop()
    run(body)


def test_a_deleted_pod_drops_its_probe_workers(tmp_path: Path) -> None:
    world = SyncWorld(tmp_path, probed_pod(livenessProbe=probe("live"),
                                           readinessProbe=probe("ready")),
                      live=PASS, ready=PASS)

    async def body() -> None:
        await world.syncer.sync(UID)
        assert len(world.manager) == 2
        world.pod = None  # type: ignore[assignment]
        result = await world.syncer.sync(UID)
        assert result.finished and len(world.manager) == 0
        await world.manager.stop()
    run(body)
