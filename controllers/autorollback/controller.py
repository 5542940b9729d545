"""The auto-rollback controller: a failed rollout goes back to the last available revision.

What Kubernetes leaves to a person (`kubectl rollout undo` after a stalled
`rollout status`), done for Deployments annotated
`schooner.io/auto-rollback: "true"`. The decisions are `decisions`';
this module only reads the shared caches and writes:

* a complete rollout: `schooner.io/last-available-revision` (merge patch);
* a failed one (progress deadline, crash loop, missing image): one update of
  the Deployment with the last available revision's template and the
  `schooner.io/auto-rollback-reason` and `-failed-hash` annotations, carrying
  the cached resourceVersion, so a concurrent change makes it a Conflict and a
  fresh look rather than a rollback of something nobody saw; then a Warning
  event `AutoRollback` on the Deployment. The Deployment controller does the
  rest, exactly as after `rollout undo` (the old ReplicaSet becomes new again
  with the next revision number and is scaled up).

Pods and ReplicaSets only say which Deployment to look at; every look reads
the caches afresh, so running a key twice changes nothing the second time.
"""

from __future__ import annotations

import copy
from typing import Protocol

from apimachinery import meta
from apimachinery.clock import Clock
from apimachinery.events import EventRecorder
from apimachinery.meta import Object

from ..base import (
    OWNER_UID_INDEX,
    Controller,
    ControllerClient,
    SharedInformerFactory,
    owner_uid_index,
)
from ..common import controller_ref as refs
from ..deployment.rollout import revision_of
from . import decisions as ar

EVENT_COMPONENT = "auto-rollback-controller"


class Recorder(Protocol):
    """The one EventRecorder call used here, so unit tests can hand in a list."""

    def record(self, obj: Object, reason: str, message: str, *, container: str | None = None,
               warning: bool = False) -> None: ...


class AutoRollbackController(Controller):
    """Watches annotated Deployments' rollouts and undoes the failed ones."""

    name = "auto-rollback"

    def __init__(self, client: ControllerClient, factory: SharedInformerFactory, *,
                 restart_threshold: int = ar.DEFAULT_RESTART_THRESHOLD,
                 image_pull_grace: float = ar.DEFAULT_IMAGE_PULL_GRACE, workers: int = 1,
                 clock: Clock | None = None, recorder: Recorder | None = None) -> None:
        super().__init__(client, factory, workers=workers, clock=clock)
        self.restart_threshold = restart_threshold
        self.image_pull_grace = image_pull_grace
        self.recorder: Recorder = recorder if recorder is not None else EventRecorder(
            client, EVENT_COMPONENT, self.clock)  # type: ignore[arg-type]
        self.d_informer = factory.informer("deployments")
        self.rs_informer = factory.informer("replicasets")
        self.pod_informer = factory.informer("pods")
        factory.add_indexer("replicasets", OWNER_UID_INDEX, owner_uid_index)
        factory.add_indexer("pods", OWNER_UID_INDEX, owner_uid_index)
        self.d_informer.add_event_handler(self._deployment_changed,
                                          lambda _old, new: self._deployment_changed(new), None)
        self.rs_informer.add_event_handler(self._rs_changed, self._rs_updated, None)
        self.pod_informer.add_event_handler(self._pod_changed, self._pod_updated, None)

    # -- event handlers: which Deployment to look at -----------------------------------------

    def _deployment_changed(self, d: Object) -> None:
        if ar.enabled(d):
            self.enqueue(d)

    def _deployment_of(self, rs: Object | None) -> Object | None:
        if rs is None:
            return None
        return refs.resolve_controller_ref(self.d_informer.store.get, meta.namespace_of(rs),
                                           refs.controller_ref(rs), "Deployment")

    def _rs_changed(self, rs: Object) -> None:
        d = self._deployment_of(rs)
        if d is not None:
            self._deployment_changed(d)

    def _rs_updated(self, old: Object, cur: Object) -> None:
        if meta.resource_version_of(old) != meta.resource_version_of(cur):
            self._rs_changed(cur)

    def _pod_changed(self, pod: Object) -> None:
        rs = refs.resolve_controller_ref(self.rs_informer.store.get, meta.namespace_of(pod),
                                         refs.controller_ref(pod), "ReplicaSet")
        if rs is not None:
            self._rs_changed(rs)

    def _pod_updated(self, old: Object, cur: Object) -> None:
        if old.get("status") != cur.get("status"):
            self._pod_changed(cur)

    # -- running ---------------------------------------------------------------------------

    # -- reconcile -------------------------------------------------------------------------

    async def reconcile(self, key: str) -> None:
        cached = self.d_informer.store.get(key)
        if cached is None or not ar.enabled(cached):
            return
        d = copy.deepcopy(cached)  # never modify the cache (STYLE rule 14)
        uid = str(meta.metadata(d).get("uid") or "")  # no uid indexes no object
        rses = [rs for rs in self.rs_informer.store.by_index(OWNER_UID_INDEX, uid)
                if (refs.controller_ref(rs) or {}).get("uid") == uid]
        pods = [p for rs in rses
                for p in self.pod_informer.store.by_index(
                    OWNER_UID_INDEX, str(meta.metadata(rs).get("uid") or ""))]
        decision = ar.decide(d, rses, pods, self.clock.now(),
                             restart_threshold=self.restart_threshold,
                             image_pull_grace=self.image_pull_grace)
        if decision.action == "record":
            await self._record_available(key, d, decision.revision)
        elif decision.action == "rollback":
            await self._roll_back(key, d, decision)
        elif decision.action == "no-target":
            await self._give_up(key, d, decision)
        elif decision.action == "handled":
            self.decision(key, "skip", reason="already-rolled-back",
                          failed_hash=decision.failed_hash)
        if decision.recheck_after is not None:
            self.queue.add_after(key, decision.recheck_after + 0.5)

    async def _record_available(self, key: str, d: Object, revision: int) -> None:
        patch = {"metadata": {"annotations": {ar.LAST_AVAILABLE_REVISION: str(revision)}}}
        await self.client.patch("deployments", meta.name_of(d), patch, meta.namespace_of(d))
        self.decision(key, "record-available", revision=revision)

    async def _roll_back(self, key: str, d: Object, decision: ar.Decision) -> None:
        assert decision.target is not None and decision.failure is not None
        to_revision = revision_of(decision.target)
        updated = ar.rollback_deployment(d, decision.target, decision)
        result = await self.client.update("deployments", updated)
        self.decision(key, "rollback", from_revision=decision.revision,
                      to_revision=to_revision, reason=decision.failure.reason,
                      failed_hash=decision.failed_hash)
        self.recorder.record(
            _ref(result), "AutoRollback",
            f"Rolled back from revision {decision.revision} to revision {to_revision}: "
            f"{decision.failure}", warning=True)

    async def _give_up(self, key: str, d: Object, decision: ar.Decision) -> None:
        assert decision.failure is not None
        patch = {"metadata": {"annotations": ar.handled_annotations(decision)}}
        result = await self.client.patch("deployments", meta.name_of(d), patch,
                                         meta.namespace_of(d))
        self.decision(key, "no-rollback", reason="no-available-revision",
                      failed_revision=decision.revision)
        self.recorder.record(
            _ref(result), "AutoRollbackRevisionNotFound",
            f"Revision {decision.revision} failed ({decision.failure}) and no fully "
            f"available revision is known to roll back to", warning=True)


def _ref(d: Object) -> Object:
    """The Deployment as an event's involvedObject wants it (list items lack a kind)."""
    return {"kind": "Deployment", "apiVersion": "apps/v1", "metadata": meta.metadata(d)}

