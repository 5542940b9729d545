"""The per-pod sync: observe, decide, act, report (kubelet's syncPod / SyncPod).

One call of `PodSyncer.sync(uid)` reads the pod from the informer cache and
its containers from the runtime, asks `compute_pod_actions` what to do, does
it, and writes the resulting status through the status subresource when it
changed. A pod that is being deleted, or is gone from the API, is terminated
instead: its app containers are stopped through `termination.py` (preStop
hook, SIGTERM, the grace period, SIGKILL), then the containers, sandbox and
volumes are removed and the pod object is deleted for good with
gracePeriodSeconds=0 and a uid precondition, as the kubelet's status manager
does once a pod has stopped.
Probes (`agent.probes.prober`) hang on the same sync: each one tells the prober what
it observed, passes the containers whose liveness or startup failed to
`compute_pod_actions`, and reads readiness for the status.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from agent.network.resolv_conf import ClusterDNS
from agent.podsync.actions import (
    PodActions,
    compute_pod_actions,
    grace_period,
    pod_full_name,
    probe_grace,
)
from agent.podsync.backoff import Backoff
from agent.podsync.deadline import MESSAGE as DEADLINE_MESSAGE
from agent.podsync.deadline import REASON as DEADLINE_REASON
from agent.podsync.deadline import deadline_left
from agent.podsync.images import ImageManager
from agent.podsync.phases import TERMINAL_PHASES
from agent.podsync.pod_start import PodStarter
from agent.podsync.pod_status import Waiting, compute_pod_status, status_changed
from agent.podsync.pod_workers import SyncResult
from agent.podsync.termination import ContainerTermination
from agent.podsync.termination_message import TerminationMessages
from agent.podsync.tokens import TokenManager
from agent.podsync.volumes import memory_dir
from agent.probes.hooks import HookRunner
from agent.probes.prober import ProbeManager
from agent.probes.runner import ProbeRunner
from agent.runtime.container import ContainerRecord, ContainerRuntimeError, PodObservation
from agent.runtime.protocol import ContainerRuntime
from apimachinery import errors
from apimachinery.client import AsyncClient
from apimachinery.clock import Clock
from apimachinery.events import EventRecorder
from apimachinery.meta import Object, rfc3339

log = logging.getLogger(__name__)
SANDBOX_STOP_SECONDS = 0  # the sandbox only sleeps: no grace needed
# A hard eviction kills at once: the kubelet's grace override of 0, raised to its 2 s minimum
EVICTION_GRACE = 2


def _describe(pod: Object | None, uid: str) -> str:
    meta = (pod or {}).get("metadata") or {}
    return f"{meta.get('namespace', '?')}/{meta.get('name', '?')} uid={uid}"


class PodSyncer:
    """Syncs one pod at a time (the workers call it concurrently for different pods)."""

    def __init__(self, *, client: AsyncClient, runtime: ContainerRuntime, recorder: EventRecorder,
                 images: ImageManager, backoff: Backoff, clock: Clock,
                 pod_by_uid: Callable[[str], Object | None], node_ip: str, root_dir: Path,
                 sandbox_image: str, cluster_dns: ClusterDNS | None = None,
                 pids_limit: int | None = None,
                 prober: ProbeManager | None = None,
                 admit: Callable[[Object], str | None] | None = None,
                 tokens: TokenManager | None = None) -> None:
        self.client, self.runtime, self.recorder = client, runtime, recorder
        self.images, self.backoff, self.clock = images, backoff, clock
        self.pod_by_uid = pod_by_uid
        self.node_ip, self.root_dir = node_ip, root_dir
        self.prober = prober if prober is not None else ProbeManager(
            ProbeRunner(runtime), recorder, clock)
        hooks = HookRunner(runtime, clock)
        self.termination = ContainerTermination(runtime, recorder, hooks, clock)
        self.messages = TerminationMessages(runtime, root_dir)
        # pod-bound service-account tokens for projected volumes, renewed before expiry
        self.tokens = tokens if tokens is not None else TokenManager(client, clock)
        self.starter = PodStarter(client, runtime, images, recorder, backoff, root_dir,
                                  node_ip, sandbox_image, cluster_dns or ClusterDNS(),
                                  pids_limit, hooks=hooks, termination=self.termination,
                                  stopping=self.stopping, tokens=self.tokens)
        self._stopping: dict[str, asyncio.Event] = {}
        self.last_known: dict[str, Object] = {}  # the last state seen, kept after a delete
        self._reasons: dict[str, dict[str, Waiting]] = {}
        self._written: dict[str, tuple[Object, str]] = {}  # uid -> (status, rv after write)
        self._accepted: dict[str, datetime] = {}  # uid -> first sync: the pod's startTime
        self.evictions: dict[str, str] = {}  # uid -> why the eviction manager evicts it
        self.admit = admit  # why a new pod cannot run here now (node pressure), or None

    def _admit(self, pod: Object, uid: str) -> None:
        """A pod new to this node that the node cannot take now (`admit` says why) is
        failed as the kubelet's admission fails it: reason Evicted, the message given."""
        refusal = self.admit(pod) if self.admit is not None else None
        if refusal:
            log.info("component=agent pod refused pod=%s why=%r", _describe(pod, uid), refusal)
            self.evictions.setdefault(uid, refusal)

    def evict(self, uid: str, message: str) -> None:
        """Mark pod `uid` evicted (node pressure); its next sync fails it and kills it."""
        self.evictions.setdefault(uid, message)

    def remember(self, pod: Object) -> None:
        """Keep the newest pod object seen (the informer calls this on every event)."""
        meta = pod.get("metadata") or {}
        uid = str(meta.get("uid") or "")
        if uid:
            self.last_known[uid] = pod
            if meta.get("deletionTimestamp") or self.pod_by_uid(uid) is None:
                self.stopping(uid).set()

    def stopping(self, uid: str) -> asyncio.Event:
        """Set once pod `uid` is being deleted or is gone: it interrupts a postStart hook."""
        return self._stopping.setdefault(uid, asyncio.Event())

    async def sync(self, uid: str) -> SyncResult:
        """Bring pod `uid` one step closer to its spec (or gone); what the worker does next."""
        pod = self.pod_by_uid(uid)
        observed = PodObservation.of(await self.runtime.pod_containers(uid))
        if pod is not None:
            self.last_known[uid] = pod
            if uid not in self._accepted and not observed.all():
                self._admit(pod, uid)
            self._accepted.setdefault(uid, self.clock.now())
            if uid in self.evictions:
                pod = await self._fail_evicted(pod, uid)
            deadline = deadline_left(pod, self._accepted[uid], self.clock.now())
            if deadline is not None and deadline <= 0:
                pod = await self._fail_deadline(pod)
        else:
            deadline = None
        actions = compute_pod_actions(pod, observed, self.backoff, self.clock.now(),
                                      last_known=self.last_known.get(uid),
                                      unhealthy=self.prober.unhealthy(uid))
        if actions.kill_pod:
            self.prober.stop_liveness_and_startup(uid)
            return await self._terminate(uid, pod, observed, actions.grace_seconds)
        assert pod is not None  # only a deleted or vanished pod is killed
        retry = await self._apply(pod, observed, actions)
        if actions.changes_runtime:
            observed = PodObservation.of(await self.runtime.pod_containers(uid))
        renew = None
        if (pod.get("status") or {}).get("phase") not in TERMINAL_PHASES:
            renew = await self.starter.refresh_projected(pod)
        self.prober.update_pod(pod, observed)
        await self._report(pod, observed)
        hints = [t for t in (actions.requeue_after, retry, renew) if t is not None]
        if deadline is not None and deadline > 0:  # wake up when the deadline passes
            hints.append(deadline)
        return SyncResult(requeue_after=min(hints) if hints else None)

    # -- acting -------------------------------------------------------------------------

    async def _apply(self, pod: Object, observed: PodObservation,
                     actions: PodActions) -> float | None:
        uid = str(pod["metadata"].get("uid"))
        reasons = self._reasons.setdefault(uid, {})
        for name, message in actions.backoff.items():
            reasons[name] = Waiting("CrashLoopBackOff", message)
            self.recorder.record(pod, "BackOff", "Back-off restarting failed container "
                                 f"{name} in pod {pod_full_name(pod)}",
                                 container=name, warning=True)
        if actions.kill:
            grace = EVICTION_GRACE if uid in self.evictions else grace_period(pod)
            await self._kill(pod, observed, actions.kill, grace)
        if actions.kill_sandbox:
            await self._stop_sandboxes(observed)
        for container_id in actions.remove:
            await self._remove(container_id)
        if not actions.start:
            return None
        log.info("component=agent pod sync pod=%s create_sandbox=%s start=%s", _describe(pod, uid),
                 actions.create_sandbox, ",".join(s.name for s in actions.start))
        outcome = await self.starter.start(pod, observed, actions)
        for name, waiting in outcome.reasons.items():
            if waiting is None:
                reasons.pop(name, None)
            else:
                reasons[name] = waiting
        return outcome.retry_after

    async def _fail_evicted(self, pod: Object, uid: str) -> Object:
        """Write the evicted pod's status first, as the kubelet does (phase Failed, reason
        Evicted, a DisruptionTarget condition): a terminal pod is then only killed."""
        old = pod.get("status") or {}
        if old.get("phase") in TERMINAL_PHASES:
            return pod
        message = self.evictions[uid]
        conditions = [c for c in old.get("conditions") or [] if c.get("type") !=
                      "DisruptionTarget"] + [{
                          "type": "DisruptionTarget", "status": "True",
                          "reason": "TerminationByKubelet", "message": message,
                          "lastProbeTime": None, "lastTransitionTime": rfc3339(self.clock.now())}]
        return await self._fail(pod, {"phase": "Failed", "reason": "Evicted",
                                      "message": message, "conditions": conditions})

    async def _fail_deadline(self, pod: Object) -> Object:
        """A pod past its activeDeadlineSeconds: Failed, DeadlineExceeded (deadline.py)."""
        if (pod.get("status") or {}).get("phase") in TERMINAL_PHASES:
            return pod
        log.info("component=agent pod past its active deadline pod=%s",
                 _describe(pod, str(pod["metadata"].get("uid"))))
        self.recorder.record(pod, DEADLINE_REASON, DEADLINE_MESSAGE)
        return await self._fail(pod, {"phase": "Failed", "reason": DEADLINE_REASON,
                                      "message": DEADLINE_MESSAGE})

    async def _fail(self, pod: Object, failed: Object) -> Object:
        """Write a terminal status the agent decided on; the pod as it now stands."""
        old, meta = pod.get("status") or {}, pod["metadata"]
        try:
            await self.client.patch("pods", meta["name"], {"status": failed},
                                    meta.get("namespace"), subresource="status")
        except errors.NotFound:
            return pod
        return {**pod, "status": {**old, **failed}}

    async def _kill(self, pod: Object | None, observed: PodObservation, ids: dict[str, str],
                    grace: int) -> None:
        """Stop containers concurrently, each through its preStop hook and the grace period.

        A kill that restarts one container (spec changed, liveness or startup failed)
        carries the kubelet's message ("Container web failed liveness probe, will be
        restarted"), which becomes the Killing event's text as in the kubelet.
        """
        records = {r.id: r for r in observed.all() if not r.sandbox}
        sandbox = observed.running_sandbox
        pod_ip = sandbox.ip if sandbox is not None and sandbox.ip else str(
            ((pod or {}).get("status") or {}).get("podIP") or "")
        names = {cid: records[cid].name if cid in records else "" for cid in ids}
        await asyncio.gather(*(self.termination.kill_container(
            pod, names[cid], cid, _own_grace(pod, names[cid], why, grace), pod_ip=pod_ip,
            why=why, message=why if why.startswith("Container ") else "")
            for cid, why in ids.items()))

    async def _stop_sandboxes(self, observed: PodObservation) -> None:
        for sandbox in observed.sandboxes:
            if sandbox.running:
                try:
                    await self.runtime.stop_container(sandbox.id, SANDBOX_STOP_SECONDS)
                except ContainerRuntimeError as exc:
                    log.warning("component=agent stopping sandbox failed id=%s error=%s",
                                sandbox.id[:12], exc)

    async def _remove(self, container_id: str) -> None:
        try:
            await self.runtime.remove_container(container_id)
        except ContainerRuntimeError as exc:
            log.warning("component=agent removing container failed id=%s error=%s",
                        container_id[:12], exc)

    async def _terminate(self, uid: str, pod: Object | None, observed: PodObservation,
                         grace: int) -> SyncResult:
        """Stop and remove everything of the pod, then delete the pod object for good."""
        known = pod or self.last_known.get(uid) or _pod_from_labels(observed)
        apps = [r for r in observed.all() if not r.sandbox]
        running = {r.id: "pod deleted" for r in apps if r.running}
        if running:
            await self._kill(known, observed, running, grace)
        for record in [*apps, *observed.sandboxes]:
            await self._remove(record.id)
        removed = await self.runtime.remove_pod_volumes(uid)
        await asyncio.to_thread(shutil.rmtree, self.root_dir / "pods" / uid, True)
        await asyncio.to_thread(shutil.rmtree, memory_dir(self.root_dir) / "pods" / uid, True)
        if observed.all() or removed:
            log.info("component=agent pod cleaned up pod=%s containers=%d volumes=%d",
                     _describe(known, uid), len(observed.all()), len(removed))
        if pod is not None:
            await self._delete(pod, uid)
        self._forget(uid)
        return SyncResult(finished=True)

    async def _delete(self, pod: Object, uid: str) -> None:
        meta = pod["metadata"]
        try:
            await self.client.delete("pods", meta["name"], meta.get("namespace"),
                                     grace_period_seconds=0, preconditions={"uid": uid})
            log.info("component=agent pod deleted pod=%s", _describe(pod, uid))
        except (errors.NotFound, errors.Conflict):
            pass  # already gone, or a new pod took the name

    def _forget(self, uid: str) -> None:
        self.last_known.pop(uid, None)
        self._reasons.pop(uid, None)
        self._written.pop(uid, None)
        self._accepted.pop(uid, None)
        self.messages.forget(uid)
        self.backoff.forget(f"{uid}/")
        self.recorder.forget(uid)
        self.tokens.forget_pod(uid)
        self.prober.remove_pod(uid)
        self._stopping.pop(uid, None)
        self.evictions.pop(uid, None)

    # -- reporting ----------------------------------------------------------------------

    async def _image_ids(self, pod: Object, observed: PodObservation) -> dict[str, str]:
        """Local image ids for containers that have no instance yet (imageID must be set)."""
        ids: dict[str, str] = {}
        spec = pod.get("spec") or {}
        for c in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]:
            image = str(c.get("image") or "")
            if observed.latest(str(c.get("name"))) is None and image not in ids:
                ids[image] = await self.images.local_id(image)
        return ids

    async def _report(self, pod: Object, observed: PodObservation) -> None:
        uid = str(pod["metadata"].get("uid"))
        reasons = self._reasons.setdefault(uid, {})
        for name in list(reasons):
            latest: ContainerRecord | None = observed.latest(name)
            if latest is not None and latest.running:
                del reasons[name]
        status = compute_pod_status(pod, observed, reasons=reasons, host_ip=self.node_ip,
                                    now=self.clock.now(),
                                    image_ids=await self._image_ids(pod, observed),
                                    ready=self.prober.ready, started=self.prober.started,
                                    accepted=self._accepted.get(uid),
                                    messages=await self.messages.collect(pod, observed))
        if not status_changed(pod.get("status") or {}, status):
            return
        written = self._written.get(uid)
        if written is not None and written[0] == status and _not_newer(pod, written[1]):
            return  # already sent; the informer has not caught up yet
        meta = pod["metadata"]
        try:
            updated = await self.client.patch("pods", meta["name"], {"status": status},
                                              meta.get("namespace"), subresource="status")
        except errors.NotFound:
            return
        rv = str((updated.get("metadata") or {}).get("resourceVersion") or "")
        self._written[uid] = (status, rv)
        log.info("component=agent pod status pod=%s phase=%s ip=%s", _describe(pod, uid),
                 status["phase"], status.get("podIP"))


def _own_grace(pod: Object | None, name: str, why: str, grace: int) -> int:
    """The probe's grace for a kill its failure caused, unless the pod is being deleted
    (then the deletion's grace rules) or evicted; else `grace`."""
    meta = (pod or {}).get("metadata") or {}
    if meta.get("deletionTimestamp"):
        return grace
    own = probe_grace(pod, name, why)
    return grace if own is None else own


def _pod_from_labels(observed: PodObservation) -> Object | None:
    """A stand-in pod (name, namespace, uid) from a container's labels, for logs and events."""
    record = next(iter(observed.all()), None)
    if record is None:
        return None
    return {"metadata": {"name": record.pod_name, "namespace": record.pod_namespace,
                         "uid": record.pod_uid}}


def _not_newer(pod: Object, written_rv: str) -> bool:
    """Whether the cached pod is no newer than our last write (resourceVersions are revisions)."""
    try:
        return int((pod.get("metadata") or {}).get("resourceVersion") or 0) <= int(written_rv)
    except ValueError:
        return True
