"""The tables of pod and container transitions, in one place (STYLE rule 17).

Each rule of the kubelet that says "given this, the pod/container goes there"
is a row here, not an `if` somewhere in the sync loop:

* `RESTART`: whether a container that exited is started again, by restartPolicy
  and outcome (kubelet's `ShouldContainerBeRestarted`);
* `STOPPED_PHASE`: the pod phase once no container runs any more (kubelet's
  `getPhase`, its `running == 0 && stopped > 0` branch);
* `TERMINATED_REASON`: the reason a terminated container shows
  (`OOMKilled`, `Completed`, `Error`), as dockershim reported it.
"""

from __future__ import annotations

from enum import StrEnum

from agent.runtime.container import ContainerRecord, State


class Phase(StrEnum):
    PENDING = "Pending"
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"


TERMINAL_PHASES = frozenset({Phase.SUCCEEDED, Phase.FAILED})

# (restartPolicy, exited successfully) -> start it again?
RESTART: dict[tuple[str, bool], bool] = {
    ("Always", True): True,
    ("Always", False): True,
    ("OnFailure", True): False,
    ("OnFailure", False): True,
    ("Never", True): False,
    ("Never", False): False,
}

# (restartPolicy, every stopped container succeeded) -> phase when none runs any more.
# Always and OnFailure-with-a-failure are "in the process of restarting": Running.
STOPPED_PHASE: dict[tuple[str, bool], Phase] = {
    ("Always", True): Phase.RUNNING,
    ("Always", False): Phase.RUNNING,
    ("OnFailure", True): Phase.SUCCEEDED,
    ("OnFailure", False): Phase.RUNNING,
    ("Never", True): Phase.SUCCEEDED,
    ("Never", False): Phase.FAILED,
}

# (OOM-killed, exit code was 0) -> the terminated state's reason.
TERMINATED_REASON: dict[tuple[bool, bool], str] = {
    (True, True): "OOMKilled",
    (True, False): "OOMKilled",
    (False, True): "Completed",
    (False, False): "Error",
}


def restart_policy(pod_spec: dict[str, object]) -> str:
    """The pod's restartPolicy; anything unknown counts as the default, Always."""
    policy = str(pod_spec.get("restartPolicy") or "Always")
    return policy if (policy, True) in RESTART else "Always"


def succeeded(record: ContainerRecord) -> bool:
    """Exited with code 0 (a failed start never succeeded)."""
    return record.dead and not record.error and record.exit_code == 0


def should_restart(policy: str, record: ContainerRecord) -> bool:
    """kubelet's ShouldContainerBeRestarted for a container that is no longer running."""
    return RESTART[(policy, succeeded(record))]


def terminated_reason(record: ContainerRecord) -> str:
    """`StartError` for a container that never started, else the TERMINATED_REASON row."""
    if record.error and record.state is State.CREATED:
        return "StartError"
    return TERMINATED_REASON[(record.oom_killed, record.exit_code == 0)]


def pod_phase(policy: str, *, waiting: int, running: int, stopped: int, succeeded: int,
              unknown: int) -> Phase:
    """kubelet's getPhase over per-container counts (a crash-looping one counts as stopped)."""
    if waiting > 0:
        return Phase.PENDING  # one or more containers has not been started
    if running > 0 and unknown == 0:
        return Phase.RUNNING
    if running == 0 and stopped > 0 and unknown == 0:
        return STOPPED_PHASE[(policy, stopped == succeeded)]
    return Phase.PENDING
