"""Stopping one container as the kubelet's killContainer does: preStop, SIGTERM, grace, SIGKILL.

Every stop of an app container goes through `ContainerTermination.kill_container`
(pod deletion, a changed spec, a failed liveness probe or postStart hook, a
lost sandbox), so each gets the same sequence:

1. a `Killing` event;
2. the container's preStop hook, if it has one (`probes/hooks.py`), bounded by the
   grace period: a hook still running when the grace is used up is abandoned.
   A failed hook is a `FailedPreStopHook` warning and the kill goes on;
3. the runtime's stop with what is left of the grace, but at least 2 s
   (kubelet's minimumGracePeriodInSeconds, "a minimal shutdown window to
   avoid unnecessary SIGKILLs"): SIGTERM at once, SIGKILL when that passes.
   A process that exits on SIGTERM ends there; one that ignores it lives
   until the grace is over, and no longer.

The grace is deletionGracePeriodSeconds, else terminationGracePeriodSeconds
(`actions.grace_period`); the hook's time comes out of it, so a preStop hook
never makes a pod take longer than its grace period (plus the 2 s floor).
"""

from __future__ import annotations

import logging

from agent.podsync.actions import MIN_GRACE_SECONDS
from agent.probes.hooks import HookRunner, handler_of, run_until
from agent.runtime.container import ContainerRuntimeError
from agent.runtime.protocol import ContainerRuntime
from apimachinery.clock import Clock
from apimachinery.events import EventRecorder
from apimachinery.meta import Object

log = logging.getLogger(__name__)


def _describe(pod: Object | None) -> str:
    meta = (pod or {}).get("metadata") or {}
    return f"{meta.get('namespace', '?')}/{meta.get('name', '?')} uid={meta.get('uid', '?')}"


def container_spec(pod: Object | None, name: str) -> Object | None:
    """The pod's current spec of container `name` (the kubelet, too, runs the newest preStop)."""
    spec = (pod or {}).get("spec") or {}
    for container in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]:
        if isinstance(container, dict) and container.get("name") == name:
            return container
    return None


class ContainerTermination:
    """kubelet's containerTermination: the kill path of one container, preStop included."""

    def __init__(self, runtime: ContainerRuntime, recorder: EventRecorder, hooks: HookRunner,
                 clock: Clock) -> None:
        self.runtime, self.recorder, self.hooks, self.clock = runtime, recorder, hooks, clock

    async def kill_container(self, pod: Object | None, name: str, container_id: str,
                             grace: int, *, pod_ip: str, why: str, message: str = "") -> None:
        """Stop one app container of `pod` (None: gone, no spec known) within `grace` seconds.

        `why` is for the log; `message` replaces the Killing event's default text.
        """
        spec = container_spec(pod, name)
        if pod is not None and name:
            self.recorder.record(pod, "Killing", message or f"Stopping container {name}",
                                 container=name)
        log.info("component=agent killing container pod=%s container=%s grace=%ds why=%s",
                 _describe(pod), name, grace, why)
        pre_stop = handler_of(spec, "preStop") if spec is not None else None
        if pod is not None and spec is not None and pre_stop is not None and grace > 0:
            grace -= await self._pre_stop(pod, spec, container_id, pre_stop, grace, pod_ip)
        try:
            await self.runtime.stop_container(container_id, max(grace, MIN_GRACE_SECONDS))
        except ContainerRuntimeError as exc:
            log.warning("component=agent stopping container failed pod=%s container=%s error=%s",
                        _describe(pod), name, exc)

    async def _pre_stop(self, pod: Object, spec: Object, container_id: str, handler: Object,
                        grace: int, pod_ip: str) -> int:
        """Run the preStop hook for at most `grace` seconds; the whole seconds it took."""
        name = str(spec.get("name"))
        started = self.clock.monotonic()
        finished, result = await run_until(
            self.hooks.run(pod, spec, container_id, pod_ip, handler), self.clock.sleep(grace))
        if not finished:
            log.info("component=agent preStop hook not completed in grace period pod=%s "
                     "container=%s grace=%ds", _describe(pod), name, grace)
        elif result is not None and not result.ok:
            log.warning("component=agent preStop hook failed pod=%s container=%s message=%s",
                        _describe(pod), name, result.message)
            self.recorder.record(pod, "FailedPreStopHook", result.message, container=name,
                                 warning=True)
        return int(self.clock.monotonic() - started)


__all__ = ["ContainerTermination", "container_spec"]
