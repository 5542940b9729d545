"""compute_pod_actions: what the agent does with one pod, table-driven (no I/O, no sleeping)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from agent.podsync.actions import StartContainer, compute_pod_actions, grace_period
from agent.podsync.backoff import Backoff
from agent.runtime.container import ContainerRecord, PodObservation, State
from apimachinery.clock import FakeClock
from apimachinery.meta import Object
from tests.unit.agent.helpers import NOW, UID, make_pod, rec, sandbox, spec_container


@dataclass
class Case:
    name: str
    pod: Object | None
    observed: list[ContainerRecord]
    create_sandbox: bool = False
    start: list[str] = field(default_factory=list)
    kill: list[str] = field(default_factory=list)
    remove: list[str] = field(default_factory=list)
    kill_sandbox: bool = False
    kill_pod: bool = False
    waits: list[str] = field(default_factory=list)


EXITED = State.EXITED
CASES = [
    Case("new pod: sandbox then its container", make_pod("a"), [],
         create_sandbox=True, start=["a"]),
    Case("all running: nothing to do", make_pod("a"), [sandbox(), rec("a")]),
    Case("second container missing: start only it", make_pod("a", "b"), [sandbox(), rec("a")],
         start=["b"]),
    Case("Always restarts a failed container", make_pod("a"),
         [sandbox(), rec("a", state=EXITED, exit_code=1)], start=["a"]),
    Case("Always restarts a completed container", make_pod("a"),
         [sandbox(), rec("a", state=EXITED, exit_code=0)], start=["a"]),
    Case("OnFailure restarts a failure", make_pod("a", policy="OnFailure"),
         [sandbox(), rec("a", state=EXITED, exit_code=2)], start=["a"]),
    Case("OnFailure leaves a success; the pod is done", make_pod("a", policy="OnFailure"),
         [sandbox(), rec("a", state=EXITED, exit_code=0)], kill_sandbox=True),
    Case("Never leaves a failure; the pod is done", make_pod("a", policy="Never"),
         [sandbox(), rec("a", state=EXITED, exit_code=1)], kill_sandbox=True),
    Case("a failed start counts as a failure", make_pod("a", policy="OnFailure"),
         [sandbox(), rec("a", state=State.CREATED, error="exec failed", exit_code=128)],
         start=["a"]),
    Case("dead sandbox: kill, recreate, restart all", make_pod("a"),
         [sandbox(running=False), rec("a")], create_sandbox=True, start=["a"],
         kill=["a-0"], remove=["POD-0-sb"]),
    Case("dead sandbox, Never pod that ran: no new sandbox", make_pod("a", policy="Never"),
         [sandbox(running=False), rec("a", state=EXITED, exit_code=1)], remove=["POD-0-sb"]),
    Case("dead sandbox, OnFailure: only the failed one again",
         make_pod("a", "b", policy="OnFailure"),
         [sandbox(running=False), rec("a", state=EXITED, exit_code=0),
          rec("b", state=EXITED, exit_code=1)],
         create_sandbox=True, start=["b"], remove=["POD-0-sb"]),
    Case("deleted pod: kill everything", make_pod("a", deleting=True),
         [sandbox(), rec("a")], kill_pod=True),
    Case("gone from the API: kill everything", None, [sandbox(), rec("a")], kill_pod=True),
    Case("terminal pod: stop the sandbox, start nothing", make_pod("a", phase="Succeeded"),
         [sandbox(), rec("a", state=EXITED, exit_code=0)], kill_sandbox=True),
    Case("old instances: keep the newest two", make_pod("a"),
         [sandbox(), rec("a", restarts=2), rec("a", state=EXITED, exit_code=1, restarts=1),
          rec("a", state=EXITED, exit_code=1, restarts=0)], remove=["a-0"]),
    Case("created but never started (agent crashed): replace it", make_pod("a"),
         [sandbox(), rec("a", state=State.CREATED)], start=["a"], remove=["a-0"]),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_compute_pod_actions(case: Case) -> None:
    clock = FakeClock(wall=NOW)
    actions = compute_pod_actions(case.pod, PodObservation.of(case.observed), Backoff(clock),
                                  clock.now())
    assert actions.kill_pod == case.kill_pod
    assert actions.create_sandbox == case.create_sandbox
    assert [s.name for s in actions.start] == case.start
    assert sorted(actions.kill) == sorted(case.kill)
    assert sorted(actions.remove) == sorted(case.remove)
    assert actions.kill_sandbox == case.kill_sandbox
    assert sorted(actions.backoff) == case.waits


def test_a_restart_after_a_failure_carries_the_time_it_died() -> None:
    clock = FakeClock(wall=NOW)
    dead = rec("a", state=EXITED, exit_code=1, ended_ago=3)
    actions = compute_pod_actions(make_pod("a"), PodObservation.of([sandbox(), dead]),
                                  Backoff(clock), clock.now())
    assert actions.start == (StartContainer("a", after_failure_at=dead.finished_at),)


def test_in_back_off_the_container_waits_and_the_pod_is_requeued() -> None:
    clock = FakeClock(wall=NOW)
    backoff = Backoff(clock, base=10, maximum=300)
    dead = rec("a", state=EXITED, exit_code=1, ended_ago=4)
    assert dead.finished_at is not None
    backoff.next(f"{UID}/a", dead.finished_at)  # restarted once before: 10 s
    backoff.next(f"{UID}/a", dead.finished_at)  # and again: 20 s
    actions = compute_pod_actions(make_pod("a"), PodObservation.of([sandbox(), dead]),
                                  backoff, clock.now())
    assert actions.start == ()
    assert actions.backoff == {
        "a": "back-off 20s restarting failed container=a pod=p_ns(uid-1)"}
    assert actions.requeue_after == pytest.approx(16)
    assert not actions.kill_sandbox  # it will run again


def test_a_changed_container_spec_restarts_it() -> None:
    clock = FakeClock(wall=NOW)
    pod = make_pod("a")
    old_spec = spec_container("a", image="schooner/busybox:1")
    actions = compute_pod_actions(pod, PodObservation.of([sandbox(), rec("a", spec=old_spec)]),
                                  Backoff(clock), clock.now())
    assert list(actions.kill.values()) == ["Container a definition changed, will be restarted"]
    assert [s.name for s in actions.start] == ["a"]
    same = compute_pod_actions(pod, PodObservation.of(
        [sandbox(), rec("a", spec=pod["spec"]["containers"][0])]), Backoff(clock), clock.now())
    assert not same.changes_runtime


@pytest.mark.parametrize(("pod", "last_known", "expected"), [
    (make_pod("a", deleting=True, grace=7), None, 7),
    (make_pod("a", deleting=True, grace=1), None, 2),  # the kubelet's minimum
    (None, make_pod("a"), 30),  # force-deleted: the spec's terminationGracePeriodSeconds
    (None, None, 2),  # an orphan nobody knows
])
def test_grace_period(pod: Object | None, last_known: Object | None, expected: int) -> None:
    actions = compute_pod_actions(pod, PodObservation(), Backoff(FakeClock()), NOW,
                                  last_known=last_known)
    assert actions.kill_pod and actions.grace_seconds == expected
    assert grace_period(pod or last_known) == expected


def test_observation_orders_instances_newest_first() -> None:
    observed = PodObservation.of([rec("a", restarts=0, state=EXITED, exit_code=1),
                                  rec("a", restarts=2), sandbox(running=False, attempt=0),
                                  rec("a", restarts=1, state=EXITED, exit_code=1),
                                  sandbox(attempt=1)])
    assert [r.restart_count for r in observed.containers["a"]] == [2, 1, 0]
    assert observed.running_sandbox is not None
    assert observed.running_sandbox.restart_count == 1
    assert observed.next_restart_count("a") == 3
    assert observed.next_restart_count("b") == 0


# -- probes: a failed liveness or startup probe ------------------------------------------

@pytest.mark.parametrize(("probe", "policy", "kill", "start"), [
    ("liveness", "Always", "Container a failed liveness probe, will be restarted", ["a"]),
    ("startup", "OnFailure", "Container a failed startup probe, will be restarted", ["a"]),
    ("liveness", "Never", "Container a failed liveness probe", []),
])
def test_a_failed_probe_kills_the_container_and_restarts_it_per_policy(
        probe: str, policy: str, kill: str, start: list[str]) -> None:
    clock = FakeClock(wall=NOW)
    actions = compute_pod_actions(make_pod("a", policy=policy),
                                  PodObservation.of([sandbox(), rec("a")]), Backoff(clock),
                                  clock.now(), unhealthy={"a-0": probe})
    assert actions.kill == {"a-0": kill}
    assert [s.name for s in actions.start] == start
    assert not actions.kill_sandbox


def test_a_restart_after_a_failed_probe_waits_for_the_back_off_of_the_last_death() -> None:
    clock = FakeClock(wall=NOW)
    backoff = Backoff(clock, base=10, maximum=300)
    dead = rec("a", state=EXITED, exit_code=137, ended_ago=4)
    assert dead.finished_at is not None
    backoff.next(f"{UID}/a", dead.finished_at)
    observed = PodObservation.of([sandbox(), rec("a", restarts=1), dead])
    held = compute_pod_actions(make_pod("a"), observed, backoff, clock.now(),
                               unhealthy={"a-1": "liveness"})
    assert list(held.kill) == ["a-1"] and held.start == ()  # killed now, restarted later
    clock.step(10)
    later = compute_pod_actions(make_pod("a"), observed, backoff, clock.now(),
                                unhealthy={"a-1": "liveness"})
    assert later.start == (StartContainer("a", after_failure_at=dead.finished_at),)


def test_a_probe_failure_of_another_instance_changes_nothing() -> None:
    clock = FakeClock(wall=NOW)
    actions = compute_pod_actions(make_pod("a"), PodObservation.of([sandbox(), rec("a")]),
                                  Backoff(clock), clock.now(), unhealthy={"gone": "liveness"})
    assert not actions.changes_runtime
