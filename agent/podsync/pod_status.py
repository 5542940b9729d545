"""A pod's status from what the runtime reports (kubelet's generateAPIPodStatus), purely.

Inputs: the pod, its observed containers, the waiting reasons the last sync
recorded (kubelet's reasonCache: ErrImagePull, CrashLoopBackOff, ...), the
node's IP, the clock's now, and two probe seams (`agent.probes.prober`): `started`
(the startup probe passed, or there is none) and `ready` (the readiness probe
passed, or there is none); without them a running container is started and
ready. A container that has not started is not ready, as the kubelet's
UpdatePodStatus has it. Output: the status fields the agent owns: phase,
conditions, IPs, startTime, qosClass, initContainerStatuses and containerStatuses.
While the init containers run (`actions.initialized` is false) the pod is
Pending (Failed once one failed under restartPolicy Never), its app containers
wait as `PodInitializing`, and `Initialized` is False naming the init
containers that have not succeeded; an init container that exited 0 is ready.
Condition transition times are carried over when a condition did not change,
so an unchanged pod yields an identical status and no write.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from agent.podsync.actions import init_containers, initialized
from agent.podsync.phases import (
    TERMINAL_PHASES,
    Phase,
    pod_phase,
    restart_policy,
    terminated_reason,
)
from agent.runtime.container import ContainerRecord, PodObservation
from apimachinery.meta import Object

Readiness = Callable[[str, ContainerRecord], bool]
CONDITION_ORDER = ("Initialized", "Ready", "ContainersReady", "PodScheduled")


@dataclass(frozen=True)
class Waiting:
    """Why a container is not running (kubelet's reasonCache entry)."""

    reason: str
    message: str = ""


def rfc3339(when: datetime | None) -> str | None:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ") if when else None


def _always_ready(name: str, record: ContainerRecord) -> bool:
    return True


def _terminated(record: ContainerRecord, messages: dict[str, str] | None = None) -> Object:
    state: Object = {"exitCode": record.exit_code if record.exit_code is not None else 128,
                     "reason": terminated_reason(record),
                     "startedAt": rfc3339(record.started_at),
                     "finishedAt": rfc3339(record.finished_at or record.created_at),
                     "containerID": f"docker://{record.id}"}
    message = (messages or {}).get(record.id) or record.error
    if message:
        state["message"] = message
    return {"terminated": state}


def _waiting(waiting: Waiting) -> Object:
    state: Object = {"reason": waiting.reason}
    if waiting.message:
        state["message"] = waiting.message
    return {"waiting": state}


def container_status(container: Object, instances: tuple[ContainerRecord, ...],
                     waiting: Waiting | None, *, image_id: str, ready: Readiness,
                     started: Readiness = _always_ready,
                     before: Waiting = Waiting("ContainerCreating"),
                     messages: dict[str, str] | None = None) -> Object:
    """One entry of status.containerStatuses (state, lastState, restartCount, ...);
    `before` is the waiting reason of a container that never ran and has no other;
    `messages` the termination messages by container id (termination_message.py)."""
    name = str(container.get("name"))
    ran = [r for r in instances if not r.pending]
    latest = ran[0] if ran else None
    status: Object = {"name": name, "image": container.get("image", ""),
                      "imageID": image_id, "restartCount": 0, "ready": False,
                      "started": False, "state": {}, "lastState": {}}
    if latest is None:
        status["state"] = _waiting(waiting or before)
        return status
    status.update(restartCount=latest.restart_count, containerID=f"docker://{latest.id}",
                  imageID=latest.image_id or image_id)
    previous = ran[1] if len(ran) > 1 else None
    if latest.running:
        status["state"] = {"running": {"startedAt": rfc3339(latest.started_at)}}
        status["started"] = started(name, latest)
        status["ready"] = status["started"] and ready(name, latest)
        if previous is not None:
            status["lastState"] = _terminated(previous, messages)
    elif waiting is not None:
        status["state"] = _waiting(waiting)
        status["lastState"] = _terminated(latest, messages)
    else:
        status["state"] = _terminated(latest, messages)
        if previous is not None:
            status["lastState"] = _terminated(previous, messages)
    return status


def init_container_status(container: Object, instances: tuple[ContainerRecord, ...],
                          waiting: Waiting | None, *, image_id: str,
                          messages: dict[str, str] | None = None) -> Object:
    """One entry of status.initContainerStatuses: ready once it exited 0, started while
    it runs (the kubelet's words for a non-sidecar init container)."""
    status = container_status(container, instances, waiting, image_id=image_id,
                              ready=_never, before=Waiting("PodInitializing"),
                              messages=messages)
    state = status["state"]
    status["started"] = "running" in state
    status["ready"] = _completed(status)
    return status


def _never(name: str, record: ContainerRecord) -> bool:
    return False


def _completed(status: Object) -> bool:
    return ((status.get("state") or {}).get("terminated") or {}).get("exitCode") == 0


def _init_phase(policy: str, statuses: list[Object]) -> Phase:
    """kubelet's getPhase while initializing: Failed if an init container failed and
    the pod never restarts, else Pending."""
    failed = any(("terminated" in (cs.get("state") or {}) and not _completed(cs))
                 or ("waiting" in (cs.get("state") or {})
                     and (cs.get("lastState") or {}).get("terminated"))
                 for cs in statuses)
    return Phase.FAILED if failed and policy == "Never" else Phase.PENDING


def compute_phase(policy: str, statuses: list[Object]) -> Phase:
    """Counts containers the way kubelet's getPhase does, then applies phases' table."""
    counts = {"waiting": 0, "running": 0, "stopped": 0, "succeeded": 0, "unknown": 0}
    for cs in statuses:
        state = cs.get("state") or {}
        if "running" in state:
            counts["running"] += 1
        elif "terminated" in state:
            counts["stopped"] += 1
            counts["succeeded"] += 1 if state["terminated"].get("exitCode") == 0 else 0
        elif "waiting" in state:
            counts["stopped" if (cs.get("lastState") or {}).get("terminated") else "waiting"] += 1
        else:
            counts["unknown"] += 1
    return pod_phase(policy, **counts)


def _condition(kind: str, ok: bool, old: dict[str, Object], now: datetime,
               reason: str = "", message: str = "") -> Object:
    status = "True" if ok else "False"
    previous = old.get(kind)
    when = previous.get("lastTransitionTime") if previous and previous.get(
        "status") == status else rfc3339(now)
    cond: Object = {"type": kind, "status": status, "lastProbeTime": None,
                    "lastTransitionTime": when}
    if not ok and reason:
        cond["reason"] = reason
        if message:
            cond["message"] = message
    return cond


def conditions(statuses: list[Object], phase: Phase, old: list[Object],
               now: datetime, incomplete: list[str] | None = None) -> list[Object]:
    """Initialized, Ready, ContainersReady and PodScheduled, as the kubelet words them.

    `incomplete` names the init containers still to succeed (Initialized False)."""
    by_type = {c.get("type", ""): c for c in old or []}
    unready = [cs["name"] for cs in statuses if not cs.get("ready")]
    if phase in TERMINAL_PHASES:
        reason, message = "PodCompleted", ""
    else:
        reason = "ContainersNotReady"
        message = f"containers with unready status: [{' '.join(unready)}]"
    ready = not unready and phase not in TERMINAL_PHASES
    made = {
        "Initialized": _condition(
            "Initialized", not incomplete, by_type, now, "ContainersNotInitialized",
            f"containers with incomplete status: [{' '.join(incomplete or [])}]"),
        "Ready": _condition("Ready", ready, by_type, now, reason, message),
        "ContainersReady": _condition("ContainersReady", ready, by_type, now, reason, message),
        "PodScheduled": _condition("PodScheduled", True, by_type, now),
    }
    others = [c for t, c in by_type.items() if t not in made]  # readiness gates, etc.
    return [made[t] for t in CONDITION_ORDER] + others


def compute_pod_status(pod: Object, observed: PodObservation, *,
                       reasons: dict[str, Waiting], host_ip: str, now: datetime,
                       image_ids: dict[str, str] | None = None,
                       ready: Readiness = _always_ready,
                       started: Readiness = _always_ready,
                       accepted: datetime | None = None,
                       messages: dict[str, str] | None = None) -> Object:
    """The status fields the agent owns, for a pod that is not being deleted.

    `messages` are the exited containers' termination messages, by container id.

    `startTime` is when the agent took the pod on (`accepted`, its first sync), before
    any container started, as the kubelet's status manager sets it; never changed after.
    """
    spec, old = pod.get("spec") or {}, pod.get("status") or {}
    policy = restart_policy(spec)
    ids = image_ids or {}
    done = initialized(spec, observed, observed.running_sandbox)
    inits = [init_container_status(
        c, observed.containers.get(str(c.get("name")), ()), reasons.get(str(c.get("name"))),
        image_id=ids.get(str(c.get("image")), ""), messages=messages)
        for c in init_containers(spec)]
    before = Waiting("ContainerCreating" if done else "PodInitializing")
    statuses = [container_status(
        c, observed.containers.get(str(c.get("name")), ()), reasons.get(str(c.get("name"))),
        image_id=ids.get(str(c.get("image")), ""), ready=ready, started=started, before=before,
        messages=messages) for c in spec.get("containers") or []]
    phase = compute_phase(policy, statuses) if done else _init_phase(policy, inits)
    incomplete = [] if done else [cs["name"] for cs in inits if not _completed(cs)]
    if old.get("phase") in TERMINAL_PHASES:
        phase = Phase(old["phase"])  # a terminal phase is final
    sandbox = observed.running_sandbox
    pod_ip = sandbox.ip if sandbox is not None and sandbox.ip else old.get("podIP")
    status: Object = {
        "phase": phase.value,
        "conditions": conditions(statuses, phase, old.get("conditions") or [], now,
                                 incomplete),
        "hostIP": host_ip, "hostIPs": [{"ip": host_ip}],
        "podIP": pod_ip, "podIPs": [{"ip": pod_ip}] if pod_ip else None,
        "startTime": old.get("startTime") or rfc3339(accepted or now),
        "containerStatuses": statuses,
    }
    if inits:
        status["initContainerStatuses"] = inits
    if old.get("qosClass"):
        status["qosClass"] = old["qosClass"]
    return status


def status_changed(old: Object, new: Object) -> bool:
    """Whether writing `new` would change any field the agent owns."""
    return any(old.get(key) != value for key, value in new.items())
