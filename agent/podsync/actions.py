"""What to do with one pod, decided from plain inputs (kuberuntime's computePodActions).

`compute_pod_actions(pod, observed, backoff, now)` looks at the pod's spec, the
containers the runtime reports for it and the restart back-off, and returns a
`PodActions`: kill the whole pod, (re)create the sandbox, start or restart
these containers, kill those, wait out these back-offs, garbage-collect those
old instances. It performs no I/O; `agent.podsync.pod_sync` carries the actions out.
The rules are the kubelet's:

* a pod that is deleted (deletionTimestamp) or gone from the API is killed;
* a pod already Succeeded/Failed never starts anything and loses its sandbox;
* no running sandbox -> everything is killed and recreated in a new one, except
  that a `Never` pod whose containers already ran is not restarted;
* a running container whose spec hash changed is killed and started again;
* a running container whose liveness or startup probe failed (`unhealthy`,
  from `agent.prober`) is killed and, unless the policy is `Never`, started
  again at once, or after the back-off if its previous instance died within
  it (kubelet's doBackOff);
* an exited container is restarted if `phases.RESTART` says so, once its
  back-off has passed, else it waits in CrashLoopBackOff;
* init containers come first (kubelet's findNextInitContainerToRun): a new
  sandbox starts only the first one; then each sync starts the next once the
  one before exited 0, and no app container starts until the last did. A
  failed one is restarted with the same back-off unless the pod's policy is
  `Never`, which fails the pod (its sandbox is stopped). Only instances made
  in the running sandbox count, so a re-created sandbox runs them all again, as
  Kubernetes does; once an app container has run, initialization is done.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from agent.podsync.backoff import Backoff, go_duration
from agent.podsync.phases import TERMINAL_PHASES, restart_policy, should_restart, succeeded
from agent.podsync.runspec import container_hash
from agent.runtime.container import ContainerRecord, PodObservation
from apimachinery.meta import Object

MIN_GRACE_SECONDS = 2  # kubelet's minimumGracePeriodInSeconds
KEEP_INSTANCES = 2  # per container: the current one and the last dead one (lastState)


@dataclass(frozen=True)
class StartContainer:
    """Start (a new instance of) a container; `after_failure` feeds the back-off."""

    name: str
    after_failure_at: datetime | None = None  # when the previous instance died


@dataclass(frozen=True)
class PodActions:
    kill_pod: bool = False
    grace_seconds: int = 0
    create_sandbox: bool = False
    kill_sandbox: bool = False
    start: tuple[StartContainer, ...] = ()
    kill: dict[str, str] = field(default_factory=dict)  # container id -> why
    remove: tuple[str, ...] = ()  # container ids to garbage-collect
    backoff: dict[str, str] = field(default_factory=dict)  # container name -> message
    requeue_after: float | None = None

    @property
    def changes_runtime(self) -> bool:
        return bool(self.kill_pod or self.create_sandbox or self.kill_sandbox or self.start
                    or self.kill or self.remove)


def backoff_key(pod_uid: str, container: str) -> str:
    return f"{pod_uid}/{container}"


def pod_full_name(pod: Object) -> str:
    """kubelet's format.Pod: `name_namespace(uid)`."""
    meta = pod.get("metadata") or {}
    return f"{meta.get('name')}_{meta.get('namespace')}({meta.get('uid')})"


def grace_period(pod: Object | None) -> int:
    """deletionGracePeriodSeconds, else terminationGracePeriodSeconds; at least 2 s."""
    if pod is None:
        return MIN_GRACE_SECONDS
    meta, spec = pod.get("metadata") or {}, pod.get("spec") or {}
    grace = meta.get("deletionGracePeriodSeconds")
    if grace is None:
        grace = spec.get("terminationGracePeriodSeconds", 30)
    return max(int(grace), MIN_GRACE_SECONDS)


def probe_grace(pod: Object | None, name: str, why: str) -> int | None:
    """A liveness or startup probe's own terminationGracePeriodSeconds, for the kill its
    failure causes (it overrides the pod's, as the kubelet's ProbeTerminationGracePeriod);
    None for any other kill or a probe without one."""
    spec = (pod or {}).get("spec") or {}
    for probe in ("liveness", "startup"):
        if not why.startswith(f"Container {name} failed {probe} probe"):
            continue
        for c in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]:
            grace = ((c.get(f"{probe}Probe") or {}) if c.get("name") == name else {}).get(
                "terminationGracePeriodSeconds")
            if isinstance(grace, int) and not isinstance(grace, bool):
                return grace
    return None


def _garbage(observed: PodObservation, keep_sandbox: ContainerRecord | None) -> tuple[str, ...]:
    """Old instances: dead sandboxes, never-started leftovers, all but the newest two."""
    ids = [s.id for s in observed.sandboxes if not s.running and s is not keep_sandbox]
    for instances in observed.containers.values():
        ids += [r.id for r in instances if r.pending]
        started = [r for r in instances if not r.pending]
        ids += [r.id for r in started[KEEP_INSTANCES:] if not r.running]
    return tuple(ids)


def compute_pod_actions(pod: Object | None, observed: PodObservation, backoff: Backoff,
                        now: datetime, *, last_known: Object | None = None,
                        unhealthy: Mapping[str, str] | None = None) -> PodActions:
    """Decide the next step for one pod; `pod` is None when it is gone from the API.

    `unhealthy` maps the IDs of containers whose liveness or startup probe
    failed to that probe's name (`liveness`, `startup`).
    """
    if pod is None or (pod.get("metadata") or {}).get("deletionTimestamp"):
        return PodActions(kill_pod=True, grace_seconds=grace_period(pod or last_known))
    spec = pod.get("spec") or {}
    policy = restart_policy(spec)
    if (pod.get("status") or {}).get("phase") in TERMINAL_PHASES:
        return PodActions(kill_sandbox=observed.running_sandbox is not None,
                          kill={r.id: "pod is terminal" for r in observed.running()},
                          remove=_garbage(observed, observed.running_sandbox))
    sandbox = observed.running_sandbox
    if sandbox is None:
        return _new_sandbox(spec, policy, observed)
    return _in_sandbox(pod, spec, policy, observed, sandbox, backoff, now, unhealthy or {})


def _new_sandbox(spec: Object, policy: str, observed: PodObservation) -> PodActions:
    """No sandbox: kill what is left and start every container that should run again."""
    kill = {r.id: "pod sandbox changed, it will be killed and re-created"
            for r in observed.running()}
    garbage = _garbage(observed, None)
    ran = any(observed.latest(str(c.get("name")))
              for c in [*init_containers(spec), *(spec.get("containers") or [])])
    if policy == "Never" and ran:
        return PodActions(kill=kill, remove=garbage)  # kubelet: don't recreate the sandbox
    start = []
    for c in spec.get("containers") or []:
        latest = observed.latest(str(c.get("name")))
        if latest is not None and latest.dead and not should_restart(policy, latest):
            continue
        start.append(StartContainer(str(c.get("name"))))
    if not start:
        return PodActions(kill=kill, remove=garbage)
    inits = init_containers(spec)
    if inits:  # a new sandbox runs its init containers again, from the first
        start = [StartContainer(str(inits[0].get("name")))]
    return PodActions(create_sandbox=True, kill=kill, start=tuple(start), remove=garbage)


def _in_sandbox(pod: Object, spec: Object, policy: str, observed: PodObservation,
                sandbox: ContainerRecord, backoff: Backoff, now: datetime,
                unhealthy: Mapping[str, str]) -> PodActions:
    uid = str((pod.get("metadata") or {}).get("uid") or "")
    pending_init = _init_step(pod, spec, policy, observed, sandbox, backoff, now)
    if pending_init is not None:
        return pending_init
    start: list[StartContainer] = []
    kill: dict[str, str] = {}
    waits: dict[str, str] = {}
    requeue: float | None = None
    active = False  # something runs, will run, or waits to run again
    for c in spec.get("containers") or []:
        name = str(c.get("name"))
        latest = observed.latest(name)
        if latest is None:
            start.append(StartContainer(name))
            active = True
        elif latest.running:
            active = True
            if latest.spec_hash and latest.spec_hash != container_hash(c):
                kill[latest.id] = f"Container {name} definition changed, will be restarted"
                start.append(StartContainer(name))
            elif latest.id in unhealthy:
                message = f"Container {name} failed {unhealthy[latest.id]} probe"
                restart = _restart_after_probe(uid, name, observed, backoff, now) \
                    if policy != "Never" else None
                kill[latest.id] = f"{message}, will be restarted" if policy != "Never" \
                    else message
                if restart is not None:
                    start.append(restart)
        elif should_restart(policy, latest):
            active = True
            ended = latest.ended_at or now
            left = backoff.remaining(backoff_key(uid, name), ended)
            if left > 0:
                delay = go_duration(backoff.get(backoff_key(uid, name)))
                waits[name] = (f"back-off {delay} restarting failed container={name} "
                               f"pod={pod_full_name(pod)}")
                requeue = left if requeue is None else min(requeue, left)
            else:
                start.append(StartContainer(name, after_failure_at=ended))
    return PodActions(start=tuple(start), kill=kill, backoff=waits, requeue_after=requeue,
                      kill_sandbox=not active, remove=_garbage(observed, sandbox))


def init_containers(spec: Object) -> list[Object]:
    """The pod's init containers (a list of container specs, maybe empty)."""
    return [c for c in spec.get("initContainers") or [] if isinstance(c, dict)]


def initialized(spec: Object, observed: PodObservation,
                sandbox: ContainerRecord | None = None) -> bool:
    """Whether every init container has succeeded (in `sandbox`, when given), or an app
    container has run (there): then they all did, even if their instances are gone."""
    if any(_latest_in(observed, str(c.get("name")), sandbox)
           for c in spec.get("containers") or []):
        return True
    for c in init_containers(spec):
        latest = _latest_in(observed, str(c.get("name")), sandbox)
        if latest is None or not succeeded(latest):
            return False
    return True


def _latest_in(observed: PodObservation, name: str,
               sandbox: ContainerRecord | None) -> ContainerRecord | None:
    """The newest started instance of `name`, ignoring those made before `sandbox` was."""
    latest = observed.latest(name)
    if latest is None or sandbox is None or sandbox.created_at is None:
        return latest
    made = latest.created_at
    return latest if made is None or made >= sandbox.created_at else None


def _init_step(pod: Object, spec: Object, policy: str, observed: PodObservation,
               sandbox: ContainerRecord, backoff: Backoff, now: datetime) -> PodActions | None:
    """What to do while the pod initializes, or None once its init containers are done.

    The first init container that has not succeeded in this sandbox decides: not run
    yet -> start it; running -> wait for it; failed -> restart it after the back-off,
    or, with restartPolicy Never, stop the sandbox (the status makes the pod Failed).
    """
    if initialized(spec, observed, sandbox):
        return None
    uid = str((pod.get("metadata") or {}).get("uid") or "")
    garbage = _garbage(observed, sandbox)
    for c in init_containers(spec):
        name = str(c.get("name"))
        latest = _latest_in(observed, name, sandbox)
        if latest is None:
            return PodActions(start=(StartContainer(name),), remove=garbage)
        if latest.running:
            return PodActions(remove=garbage)
        if succeeded(latest):
            continue
        if policy == "Never":
            return PodActions(kill_sandbox=True, remove=garbage)
        ended = latest.ended_at or now
        left = backoff.remaining(backoff_key(uid, name), ended)
        if left <= 0:
            return PodActions(start=(StartContainer(name, after_failure_at=ended),),
                              remove=garbage)
        delay = go_duration(backoff.get(backoff_key(uid, name)))
        return PodActions(backoff={name: f"back-off {delay} restarting failed container="
                                         f"{name} pod={pod_full_name(pod)}"},
                          requeue_after=left, remove=garbage)
    return None


def _restart_after_probe(uid: str, name: str, observed: PodObservation, backoff: Backoff,
                         now: datetime) -> StartContainer | None:
    """The restart of a container killed for a failed probe, unless the back-off holds it.

    As the kubelet's doBackOff: the newest dead instance before it says when
    the container last failed; while the back-off since then lasts nothing
    starts now (the exited-container rule restarts it once it has passed).
    """
    previous = next((r for r in observed.containers.get(name, ()) if r.dead), None)
    if previous is None:
        return StartContainer(name)
    ended = previous.ended_at or now
    if backoff.remaining(backoff_key(uid, name), ended) > 0:
        return None
    return StartContainer(name, after_failure_at=ended)


__all__ = ["PodActions", "StartContainer", "backoff_key", "compute_pod_actions",
           "grace_period", "init_containers", "initialized", "pod_full_name"]
