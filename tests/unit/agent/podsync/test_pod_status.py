"""Pod status from fake container inspections: states, reasons, phases, conditions."""

from __future__ import annotations

from datetime import timedelta

import pytest

from agent.podsync.phases import Phase, pod_phase
from agent.podsync.pod_status import Waiting, compute_pod_status, status_changed
from agent.runtime.container import ContainerRecord, PodObservation, State
from apimachinery.meta import Object
from apimachinery.printers import pod_status as kubectl_status
from tests.unit.agent.helpers import NOW, make_pod, rec, sandbox

EXITED = State.EXITED


def status(pod: Object, records: list[ContainerRecord],
           reasons: dict[str, Waiting] | None = None) -> Object:
    return compute_pod_status(pod, PodObservation.of(records), reasons=reasons or {},
                              host_ip="192.0.2.10", now=NOW,
                              image_ids={"schooner/busybox:latest": "sha256:local"})


def only(st: Object) -> Object:
    [cs] = st["containerStatuses"]
    return cs


def conditions(st: Object) -> dict[str, str]:
    return {c["type"]: c["status"] for c in st["conditions"]}


def test_a_running_pod() -> None:
    st = status(make_pod("a"), [sandbox(), rec("a", cid="abc")])
    assert st["phase"] == "Running"
    assert (st["podIP"], st["podIPs"], st["hostIP"]) == ("10.0.0.5", [{"ip": "10.0.0.5"}],
                                                        "192.0.2.10")
    cs = only(st)
    assert cs["state"] == {"running": {"startedAt": "2024-01-01T11:58:30Z"}}
    assert (cs["ready"], cs["started"], cs["restartCount"]) == (True, True, 0)
    assert (cs["containerID"], cs["imageID"]) == ("docker://abc", "sha256:img")
    assert cs["lastState"] == {}
    assert conditions(st) == {"Initialized": "True", "Ready": "True",
                              "ContainersReady": "True", "PodScheduled": "True"}
    assert st["qosClass"] == "BestEffort" and st["startTime"] == "2024-01-01T12:00:00Z"


def test_a_new_pod_is_pending_and_container_creating() -> None:
    st = status(make_pod("a"), [])
    assert st["phase"] == "Pending" and st["podIP"] is None
    cs = only(st)
    assert cs["state"] == {"waiting": {"reason": "ContainerCreating"}}
    assert cs["imageID"] == "sha256:local"  # never empty when the image is here
    ready = next(c for c in st["conditions"] if c["type"] == "Ready")
    assert ready["reason"] == "ContainersNotReady"
    assert ready["message"] == "containers with unready status: [a]"


def test_crash_loop_back_off_keeps_the_last_termination() -> None:
    pod = make_pod("a", policy="OnFailure", phase="Running")
    message = "back-off 20s restarting failed container=a pod=p_ns(uid-1)"
    st = status(pod, [sandbox(), rec("a", state=EXITED, exit_code=1, restarts=2, cid="c2"),
                      rec("a", state=EXITED, exit_code=1, restarts=1, cid="c1")],
                {"a": Waiting("CrashLoopBackOff", message)})
    cs = only(st)
    assert cs["state"] == {"waiting": {"reason": "CrashLoopBackOff", "message": message}}
    terminated = cs["lastState"]["terminated"]
    assert (terminated["exitCode"], terminated["reason"]) == (1, "Error")
    assert terminated["containerID"] == "docker://c2" and cs["restartCount"] == 2
    assert st["phase"] == "Running"  # restarting, as Kubernetes reports it
    assert kubectl_status({"metadata": {}, "spec": pod["spec"], "status": st}) == \
        "CrashLoopBackOff"


@pytest.mark.parametrize("reason", ["ErrImagePull", "ImagePullBackOff", "ErrImageNeverPull"])
def test_image_problems_wait_with_their_reason(reason: str) -> None:
    st = status(make_pod("a"), [sandbox()], {"a": Waiting(reason, 'image "x"')})
    assert only(st)["state"] == {"waiting": {"reason": reason, "message": 'image "x"'}}
    assert st["phase"] == "Pending"


@pytest.mark.parametrize(("policy", "exit_code", "oom", "phase", "reason"), [
    ("Never", 0, False, "Succeeded", "Completed"),
    ("OnFailure", 0, False, "Succeeded", "Completed"),
    ("Never", 1, False, "Failed", "Error"),
    ("Never", 137, True, "Failed", "OOMKilled"),
    ("Always", 0, False, "Running", "Completed"),  # about to restart
])
def test_terminated_containers(policy: str, exit_code: int, oom: bool, phase: str,
                               reason: str) -> None:
    st = status(make_pod("a", policy=policy, phase="Running"),
                [rec("a", state=EXITED, exit_code=exit_code, oom=oom)])
    terminated = only(st)["state"]["terminated"]
    assert (terminated["exitCode"], terminated["reason"]) == (exit_code, reason)
    assert terminated["finishedAt"] == "2024-01-01T11:59:59Z"
    assert st["phase"] == phase
    if phase in ("Succeeded", "Failed"):
        ready = next(c for c in st["conditions"] if c["type"] == "Ready")
        assert (ready["status"], ready["reason"]) == ("False", "PodCompleted")


def test_a_failed_start_is_a_start_error() -> None:
    st = status(make_pod("a", policy="Never"),
                [rec("a", state=State.CREATED, error="mount failed", exit_code=128)])
    terminated = only(st)["state"]["terminated"]
    assert (terminated["reason"], terminated["message"]) == ("StartError", "mount failed")
    assert st["phase"] == "Failed"


def test_restarted_container_shows_the_previous_termination() -> None:
    st = status(make_pod("a"), [sandbox(), rec("a", restarts=1),
                                rec("a", state=EXITED, exit_code=137, restarts=0)])
    cs = only(st)
    assert cs["restartCount"] == 1 and "running" in cs["state"]
    assert cs["lastState"]["terminated"]["exitCode"] == 137


def test_a_terminal_phase_is_final_and_the_ip_is_kept() -> None:
    pod = make_pod("a", policy="Never", phase="Succeeded", podIP="10.0.0.5")
    st = status(pod, [rec("a", state=EXITED, exit_code=0)])
    assert st["phase"] == "Succeeded" and st["podIP"] == "10.0.0.5"


def test_unchanged_conditions_keep_their_transition_time() -> None:
    first = status(make_pod("a"), [sandbox(), rec("a")])
    pod = make_pod("a", **first)
    later = compute_pod_status(pod, PodObservation.of([sandbox(), rec("a")]), reasons={},
                               host_ip="192.0.2.10", now=NOW + timedelta(minutes=5),
                               image_ids={})
    assert later["conditions"] == first["conditions"]
    assert not status_changed(pod["status"], later)
    crashed = compute_pod_status(pod, PodObservation.of([sandbox(), rec(
        "a", state=EXITED, exit_code=1)]), reasons={}, host_ip="192.0.2.10",
        now=NOW + timedelta(minutes=5))
    ready = next(c for c in crashed["conditions"] if c["type"] == "Ready")
    assert ready["lastTransitionTime"] == "2024-01-01T12:05:00Z"
    assert status_changed(pod["status"], crashed)


@pytest.mark.parametrize(("counts", "policy", "phase"), [
    ({"waiting": 1, "running": 1}, "Always", Phase.PENDING),
    ({"running": 1, "stopped": 1}, "Never", Phase.RUNNING),
    ({"stopped": 2, "succeeded": 2}, "Always", Phase.RUNNING),
    ({"stopped": 2, "succeeded": 1}, "OnFailure", Phase.RUNNING),
    ({"stopped": 2, "succeeded": 1}, "Never", Phase.FAILED),
    ({"stopped": 2, "succeeded": 2}, "Never", Phase.SUCCEEDED),
    ({"running": 1, "unknown": 1}, "Always", Phase.PENDING),
])
def test_pod_phase_table(counts: dict[str, int], policy: str, phase: Phase) -> None:
    full = {"waiting": 0, "running": 0, "stopped": 0, "succeeded": 0, "unknown": 0, **counts}
    assert pod_phase(policy, **full) is phase


@pytest.mark.parametrize(("started", "ready", "expected"), [
    (True, True, (True, True, "True")),
    (True, False, (True, False, "False")),  # a failing readiness probe
    (False, True, (False, False, "False")),  # startup not passed: never ready
])
def test_the_probe_seams_set_started_ready_and_the_conditions(
        started: bool, ready: bool, expected: tuple[bool, bool, str]) -> None:
    st = compute_pod_status(make_pod("a"), PodObservation.of([sandbox(), rec("a")]),
                            reasons={}, host_ip="192.0.2.10", now=NOW,
                            ready=lambda name, record: ready,
                            started=lambda name, record: started)
    cs = only(st)
    assert (cs["started"], cs["ready"], conditions(st)["Ready"]) == expected
    assert conditions(st)["ContainersReady"] == expected[2]
    assert st["phase"] == "Running"


def test_start_time_is_when_the_agent_took_the_pod_on_and_never_changes() -> None:
    """Before its containers started (the kubelet's status manager sets it on the
    first sync), even when the first status goes out later."""
    accepted = NOW - timedelta(seconds=7)
    first = compute_pod_status(make_pod("a"), PodObservation.of([sandbox(), rec("a")]),
                               reasons={}, host_ip="192.0.2.10", now=NOW, accepted=accepted)
    assert first["startTime"] == "2024-01-01T11:59:53Z"
    again = compute_pod_status(make_pod("a", **first), PodObservation.of([sandbox(), rec("a")]),
                               reasons={}, host_ip="192.0.2.10", now=NOW + timedelta(hours=1),
                               accepted=NOW)
    assert again["startTime"] == first["startTime"]
    assert status(make_pod("a"), [sandbox(), rec("a")])["startTime"] == "2024-01-01T12:00:00Z"
