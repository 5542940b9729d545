"""Init containers: run in order, each to completion, before any app container.

The decisions (`compute_pod_actions`), the status the kubelet would write
(initContainerStatuses, Initialized, phase), and whole syncs against the fake
runtime: ordering, a failure's back-off, restartPolicy Never, and an agent
restart that adopts a pod whose init containers already succeeded.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from agent.podsync.actions import compute_pod_actions
from agent.podsync.backoff import Backoff
from agent.podsync.pod_status import Waiting, compute_pod_status
from agent.runtime.container import ContainerRecord, PodObservation, State
from apimachinery.clock import FakeClock
from apimachinery.meta import Object
from apimachinery.printers import pod_status
from tests.unit.agent.helpers import NOW, UID, make_pod, rec, sandbox, spec_container
from tests.unit.agent.podsync.test_pod_sync import World

EXITED = State.EXITED


def init_pod(*inits: str, policy: str = "Always", apps: tuple[str, ...] = ("web",)) -> Object:
    pod = make_pod(*apps, policy=policy)
    pod["spec"]["initContainers"] = [spec_container(n) for n in inits]
    return pod


def actions_for(pod: Object, observed: list[ContainerRecord],
                backoff: Backoff | None = None) -> tuple[list[str], bool, dict[str, str]]:
    clock = FakeClock(wall=NOW)
    actions = compute_pod_actions(pod, PodObservation.of(observed),
                                  backoff or Backoff(clock), clock.now())
    return [s.name for s in actions.start], actions.create_sandbox or actions.kill_sandbox, \
        actions.backoff


# -- decisions ---------------------------------------------------------------------------

def test_a_new_pod_starts_only_its_first_init_container_in_a_new_sandbox() -> None:
    assert actions_for(init_pod("a", "b"), []) == (["a"], True, {})


def test_the_next_init_container_starts_only_after_the_previous_exited_zero() -> None:
    pod = init_pod("a", "b")
    assert actions_for(pod, [sandbox(), rec("a")]) == ([], False, {})  # a runs: wait
    assert actions_for(pod, [sandbox(), rec("a", state=EXITED, exit_code=0)]) == (
        ["b"], False, {})
    done = [sandbox(), rec("a", state=EXITED, exit_code=0), rec("b", state=EXITED, exit_code=0)]
    assert actions_for(pod, done) == (["web"], False, {})


def test_a_failed_init_container_restarts_with_back_off_and_apps_wait() -> None:
    pod = init_pod("a")
    dead = rec("a", state=EXITED, exit_code=1, ended_ago=2)
    assert actions_for(pod, [sandbox(), dead])[0] == ["a"]  # first restart at once
    clock = FakeClock(wall=NOW)
    backoff = Backoff(clock, base=10, maximum=300)
    assert dead.finished_at is not None
    backoff.next(f"{UID}/a", dead.finished_at)
    start, _, waits = actions_for(pod, [sandbox(), dead], backoff)
    assert start == [] and waits == {
        "a": "back-off 10s restarting failed container=a pod=p_ns(uid-1)"}


def test_a_failed_init_container_under_never_stops_the_pod() -> None:
    pod = init_pod("a", policy="Never")
    start, stops, _ = actions_for(pod, [sandbox(), rec("a", state=EXITED, exit_code=3)])
    assert start == [] and stops


def test_a_completed_init_container_is_not_run_again_under_on_failure() -> None:
    pod = init_pod("a", policy="OnFailure")
    observed = [sandbox(), rec("a", state=EXITED, exit_code=0), rec("web")]
    assert actions_for(pod, observed) == ([], False, {})


def test_a_new_sandbox_runs_the_init_containers_again_from_the_first() -> None:
    pod = init_pod("a", "b")
    old = [sandbox(running=False), rec("a", state=EXITED, exit_code=0),
           rec("b", state=EXITED, exit_code=0), rec("web")]
    assert actions_for(pod, old)[0:2] == (["a"], True)
    # in the new sandbox (made after them), the old instances do not count
    again = [sandbox(running=False), sandbox(attempt=1), rec("a", state=EXITED, exit_code=0),
             rec("b", state=EXITED, exit_code=0), rec("web", state=EXITED, exit_code=137)]
    assert actions_for(pod, again)[0] == ["a"]


def test_a_dead_sandbox_of_a_finished_on_failure_pod_is_not_remade_for_its_inits() -> None:
    pod = init_pod("a", policy="OnFailure")
    finished = [sandbox(running=False), rec("a", state=EXITED, exit_code=0),
                rec("web", state=EXITED, exit_code=0)]
    assert actions_for(pod, finished)[0:2] == ([], False)


# -- status -------------------------------------------------------------------------------

def status_of(pod: Object, observed: list[ContainerRecord]) -> Object:
    return compute_pod_status(pod, PodObservation.of(observed), reasons={},
                              host_ip="192.0.2.10", now=NOW)


def condition(status: Object, kind: str) -> Object:
    return next(c for c in status["conditions"] if c["type"] == kind)


def test_status_while_the_first_init_container_runs() -> None:
    status = status_of(init_pod("a", "b"), [sandbox(), rec("a")])
    assert status["phase"] == "Pending"
    a, b = status["initContainerStatuses"]
    assert (a["state"].keys(), a["started"], a["ready"]) == ({"running"}, True, False)
    assert b["state"] == {"waiting": {"reason": "PodInitializing"}}
    assert status["containerStatuses"][0]["state"] == {
        "waiting": {"reason": "PodInitializing"}}
    init = condition(status, "Initialized")
    assert (init["status"], init["reason"], init["message"]) == (
        "False", "ContainersNotInitialized", "containers with incomplete status: [a b]")


def test_status_once_every_init_container_completed() -> None:
    observed = [sandbox(), rec("a", state=EXITED, exit_code=0),
                rec("b", state=EXITED, exit_code=0), rec("web")]
    status = status_of(init_pod("a", "b"), observed)
    assert status["phase"] == "Running"
    assert condition(status, "Initialized")["status"] == "True"
    a = status["initContainerStatuses"][0]
    assert a["state"]["terminated"]["reason"] == "Completed" and a["ready"]
    assert not a["started"]


def test_a_failed_init_container_fails_a_never_pod_and_not_an_always_one() -> None:
    failed = [sandbox(), rec("a", state=EXITED, exit_code=2)]
    never = status_of(init_pod("a", "b", policy="Never"), failed)
    assert never["phase"] == "Failed"
    state = never["initContainerStatuses"][0]["state"]["terminated"]
    assert (state["exitCode"], state["reason"]) == (2, "Error")
    assert condition(never, "Initialized")["message"] == \
        "containers with incomplete status: [a b]"
    assert status_of(init_pod("a", "b"), failed)["phase"] == "Pending"


def test_a_pod_without_init_containers_reports_none() -> None:
    status = status_of(make_pod("web"), [sandbox(), rec("web")])
    assert "initContainerStatuses" not in status
    assert condition(status, "Initialized")["status"] == "True"


# -- whole syncs against the fake runtime -------------------------------------------------

def runs(world: World) -> list[str]:
    return [name for verb, name in world.runtime.actions() if verb == "run"]


def test_sync_runs_init_containers_one_by_one_then_the_app(tmp_path: Path) -> None:
    world = World(tmp_path, init_pod("a", "b"))

    async def body() -> None:
        await world.syncer.sync(UID)
        world.accept_status()
        assert runs(world) == ["schooner_POD_p_ns_uid-1_0", "schooner_a_p_ns_uid-1_0"]
        assert world.status()["phase"] == "Pending"
        await world.syncer.sync(UID)  # a still runs: nothing new
        assert len(runs(world)) == 2
        world.runtime.exit("c2", 0)
        await world.syncer.sync(UID)
        world.accept_status()
        assert runs(world)[-1] == "schooner_b_p_ns_uid-1_0"
        world.runtime.exit("c3", 0)
        await world.syncer.sync(UID)
        world.accept_status()
    asyncio.run(body())
    assert runs(world)[-1] == "schooner_web_p_ns_uid-1_0"
    status = world.status()
    assert status["phase"] == "Running"
    assert [c["status"] for c in status["conditions"]][:1] == ["True"]
    assert [s["ready"] for s in status["initContainerStatuses"]] == [True, True]


def test_sync_backs_off_a_failing_init_container_and_holds_the_app(tmp_path: Path) -> None:
    world = World(tmp_path, init_pod("a"))

    async def body() -> None:
        await world.syncer.sync(UID)
        world.accept_status()
        world.clock.step(1)
        world.runtime.exit("c2", 1)
        first = await world.syncer.sync(UID)  # restarted at once
        assert first.requeue_after is None
        world.accept_status()
        world.clock.step(1)
        world.runtime.exit("c3", 1)
        second = await world.syncer.sync(UID)
        assert second.requeue_after == 10
        world.accept_status()
    asyncio.run(body())
    assert runs(world)[1:] == ["schooner_a_p_ns_uid-1_0", "schooner_a_p_ns_uid-1_1"]
    status = world.status()
    a = status["initContainerStatuses"][0]
    assert a["state"]["waiting"]["reason"] == "CrashLoopBackOff" and a["restartCount"] == 1
    assert a["lastState"]["terminated"]["exitCode"] == 1
    assert status["phase"] == "Pending"
    assert status["containerStatuses"][0]["state"]["waiting"]["reason"] == "PodInitializing"


def test_sync_fails_a_never_pod_whose_init_container_failed(tmp_path: Path) -> None:
    world = World(tmp_path, init_pod("a", policy="Never"))

    async def body() -> None:
        await world.syncer.sync(UID)
        world.accept_status()
        world.runtime.exit("c2", 7)
        await world.syncer.sync(UID)
        world.accept_status()
        await world.syncer.sync(UID)  # terminal now: nothing restarts
    asyncio.run(body())
    assert runs(world) == ["schooner_POD_p_ns_uid-1_0", "schooner_a_p_ns_uid-1_0"]
    assert ("stop", "POD/0") in world.runtime.actions()
    assert world.status()["phase"] == "Failed"


def test_a_restarted_agent_adopts_a_pod_without_rerunning_its_init_containers(
        tmp_path: Path) -> None:
    world = World(tmp_path, init_pod("a"))

    async def body() -> None:
        await world.syncer.sync(UID)
        world.runtime.exit("c2", 0)
        await world.syncer.sync(UID)  # the app starts
        world.accept_status()
        restarted = World(tmp_path, world.pod, runtime=world.runtime)  # same Docker
        before = len(runs(world))
        await restarted.syncer.sync(UID)
        assert len(runs(world)) == before  # neither the init container nor the app again
    asyncio.run(body())
    assert runs(world) == ["schooner_POD_p_ns_uid-1_0", "schooner_a_p_ns_uid-1_0",
                           "schooner_web_p_ns_uid-1_0"]


def test_kubectl_status_column_reads_the_agents_init_statuses() -> None:
    def column(pod: Object, observed: list[ContainerRecord], **reasons: Waiting) -> str:
        status = compute_pod_status(pod, PodObservation.of(observed), reasons=reasons,
                                    host_ip="192.0.2.10", now=NOW)
        return pod_status({**pod, "status": status})
    pod = init_pod("a", "b")
    assert column(pod, [sandbox(), rec("a")]) == "Init:0/2"
    assert column(pod, [sandbox(), rec("a", state=EXITED, exit_code=0), rec("b")]) == "Init:1/2"
    assert column(init_pod("a", "b", policy="Never"),
                  [sandbox(), rec("a", state=EXITED, exit_code=1)]) == "Init:Error"
    assert column(pod, [sandbox(), rec("a", state=EXITED, exit_code=1)],
                  a=Waiting("CrashLoopBackOff", "back-off")) == "Init:CrashLoopBackOff"
    done = [sandbox(), rec("a", state=EXITED, exit_code=0), rec("b", state=EXITED, exit_code=0),
            rec("web")]
    assert column(pod, done) == "Running"
