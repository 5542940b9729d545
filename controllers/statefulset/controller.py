"""The StatefulSet controller: pods with stable names, created and replaced in order.

Kubernetes' pkg/controller/statefulset (stateful_set.go, stateful_pod_control.go).
`reconcile(key)`:

1. reads the StatefulSet and the namespace's pods from the caches, and claims
   the pods whose names say they are its members (`NAME-<ordinal>`), adopting
   matching orphans and releasing pods that stopped matching (`common.controller_ref`);
2. unless it still waits for its own creations or deletions to show up in the
   pod cache, decides with the pure `plan.plan_pods` and acts:
   creates the planned ordinals, deletes the planned pods (with their uid as a
   precondition, so a stale cache can never delete a replacement that reuses the
   name), and repairs a missing pod-name label;
3. writes `status` through the status subresource when it changed.

Names are stable, so a second create of the same pod fails with AlreadyExists
rather than doubling it; expectations (`common.expectations`) still keep a burst of
events from acting on a cache that has not seen the last action yet.

Revision history: Kubernetes keeps old templates in ControllerRevision objects.
Schooner has no such kind yet, so the controller remembers, in memory, the
template of each StatefulSet's current and update revisions as it sees them.
A pod recreated below a RollingUpdate `partition` gets the current revision's
template when it is remembered; after a restart in the middle of a partitioned
rollout it is not, and the pod is created from (and labelled with) the update
revision instead.
"""

from __future__ import annotations

import asyncio
from typing import Any

from apimachinery import errors, meta
from apimachinery.clock import Clock
from apimachinery.conditions import is_ready
from apimachinery.informer import NAMESPACE_INDEX
from apimachinery.meta import Object
from apimachinery.selectors import selector_from_dict

from ..base import Controller, ControllerClient, SharedInformerFactory
from ..common import controller_ref as refs
from ..common.expectations import ControllerExpectations
from . import identity
from .plan import Plan, compute_status, is_terminating, plan_pods, status_changed


class StatefulSetController(Controller):
    """Reconciles StatefulSets against the pods they own."""

    name = "statefulset"

    def __init__(self, client: ControllerClient, factory: SharedInformerFactory, *,
                 workers: int = 2, clock: Clock | None = None) -> None:
        super().__init__(client, factory, workers=workers, clock=clock)
        # Creations and deletions are counted apart: a Parallel sync may do both at once.
        self.creations = ControllerExpectations(self.clock, controller=self.name)
        self.deletions = ControllerExpectations(self.clock, controller=self.name)
        self.templates: dict[str, dict[str, Object]] = {}  # key -> revision -> template
        self.sts_informer = factory.informer("statefulsets")
        self.pod_informer = factory.informer("pods")
        self.sts_informer.add_event_handler(self.enqueue, self._sts_updated, self._sts_deleted)
        self.pod_informer.add_event_handler(self._pod_added, self._pod_updated,
                                            self._pod_deleted)

    # -- event handlers: only enqueue keys and record observations ------------------------

    def _sts_updated(self, old: Object, new: Object) -> None:
        self.enqueue(new)

    def _sts_deleted(self, sts: Object) -> None:
        self._forget(meta.key_of(sts))
        self.enqueue(sts)

    def _forget(self, key: str) -> None:
        self.creations.delete(key)
        self.deletions.delete(key)
        self.templates.pop(key, None)

    def _owner(self, pod: Object) -> Object | None:
        return refs.resolve_controller_ref(self.sts_informer.store.get, meta.namespace_of(pod),
                                           refs.controller_ref(pod), "StatefulSet")

    def _matching(self, pod: Object) -> list[Object]:
        """StatefulSets that could adopt an orphan: its name and labels both fit."""
        found = []
        for sts in self.sts_informer.store.by_index(NAMESPACE_INDEX, meta.namespace_of(pod)):
            try:
                selector = selector_from_dict((sts.get("spec") or {}).get("selector"))
            except errors.BadRequest:
                continue
            if identity.is_member_of(sts, pod) and selector.matches(meta.labels_of(pod)):
                found.append(sts)
        return found

    def _pod_added(self, pod: Object) -> None:
        if is_terminating(pod):
            self._pod_deleted(pod)
            return
        if refs.controller_ref(pod) is not None:
            sts = self._owner(pod)
            if sts is not None:
                self.creations.creation_observed(meta.key_of(sts))
                self.enqueue(sts)
            return
        for sts in self._matching(pod):
            self.enqueue(sts)

    def _pod_updated(self, old: Object, cur: Object) -> None:
        if meta.resource_version_of(old) == meta.resource_version_of(cur):
            return
        if is_terminating(cur):
            self._pod_deleted(cur)
            return
        owners, sts = refs.owners_to_sync(old, cur, self._owner, self._matching)
        for owner in owners:
            self.enqueue(owner)
        if sts is not None:  # a pod that just became ready is available minReadySeconds later
            min_ready = identity.min_ready_seconds(sts)
            if min_ready > 0 and not is_ready(old) and is_ready(cur):
                self.enqueue_after(sts, min_ready + 1)

    def _pod_deleted(self, pod: Object) -> None:
        sts = self._owner(pod)
        if sts is not None:
            self.deletions.deletion_observed(meta.key_of(sts), meta.key_of(pod))
            self.enqueue(sts)

    # -- reconcile ---------------------------------------------------------------------------

    async def reconcile(self, key: str) -> None:
        sts = self.sts_informer.store.get(key)
        if sts is None:
            self._forget(key)
            self.decision(key, "forget", reason="not-found")
            return
        try:
            selector = selector_from_dict((sts.get("spec") or {}).get("selector"))
        except errors.BadRequest as exc:
            self.decision(key, "skip", reason="invalid-selector", error=repr(exc.message))
            return
        synced = self.creations.satisfied(key) and self.deletions.satisfied(key)
        candidates = [p for p in self.pod_informer.store.by_index(
            NAMESPACE_INDEX, meta.namespace_of(sts)) if identity.is_member_of(sts, p)]
        pods = await refs.claim_objects(
            self.client, sts, "statefulsets", "StatefulSet", selector, candidates, "pods",
            lambda action, pod: self.decision(key, action, pod=meta.name_of(pod)))
        update = identity.revision_name(sts)
        current = identity.current_revision(sts, update)
        self._remember(key, sts, current, update)
        now = self.clock.now()
        if synced:
            plan = plan_pods(sts, pods, current, update, now)
            await self._act(key, sts, plan)
        else:
            self.decision(key, "wait", reason="expectations",
                          creations=self.creations.pending(key),
                          deletions=self.deletions.pending(key))
        status = compute_status(sts, pods, current, update, now)
        if status_changed(sts, status):
            updated = meta.deep_copy(sts)
            updated["status"] = status
            await self.client.update_status("statefulsets", updated)
        min_ready = identity.min_ready_seconds(sts)
        if min_ready > 0 and status["availableReplicas"] < status["readyReplicas"]:
            self.queue.add_after(key, min_ready)

    def _remember(self, key: str, sts: Object, current: str, update: str) -> None:
        """Keep the update revision's template, and the current one's while it is known."""
        known = self.templates.get(key, {})
        known[update] = meta.deep_copy((sts.get("spec") or {}).get("template") or {})
        self.templates[key] = {rev: tpl for rev, tpl in known.items()
                               if rev in (current, update)}

    # -- acting ------------------------------------------------------------------------------

    async def _act(self, key: str, sts: Object, plan: Plan) -> None:
        if plan.wait:
            self.decision(key, "wait", reason=repr(plan.wait))
        for pod in plan.relabel:
            await self._relabel(key, pod)
        first_error: BaseException | None = None
        if plan.delete:
            first_error = await self._delete_pods(key, plan.delete)
        if plan.create:
            error = await self._create_pods(key, sts, plan.create)
            first_error = first_error or error
        if first_error is not None:
            raise first_error

    async def _create_pods(self, key: str, sts: Object,
                           creations: list[tuple[int, str]]) -> BaseException | None:
        self.creations.expect_creations(key, len(creations))
        known = self.templates.get(key, {})
        update = identity.revision_name(sts)

        async def create_one(ordinal: int, revision: str) -> None:
            if revision not in known:  # forgotten across a restart: the update revision
                revision = update
            pod = identity.new_stateful_pod(sts, ordinal, revision, known.get(revision))
            self.decision(key, "create", pod=meta.name_of(pod), revision=revision)
            try:
                await self.client.create("pods", pod, meta.namespace_of(sts))
            except errors.APIError as exc:
                self.creations.creation_observed(key)  # nothing new will be observed
                if not (isinstance(exc, errors.Forbidden) and "being terminated" in exc.message):
                    raise  # a terminating namespace refuses pods: nothing to retry

        results = await asyncio.gather(*(create_one(o, r) for o, r in creations),
                                       return_exceptions=True)
        return _first_error(results)

    async def _delete_pods(self, key: str,
                           victims: list[tuple[Object, str]]) -> BaseException | None:
        self.deletions.expect_deletions(key, [meta.key_of(p) for p, _ in victims])

        async def delete_one(pod: Object, reason: str) -> None:
            self.decision(key, "delete", pod=meta.name_of(pod), reason=reason)
            try:
                await self.client.delete("pods", meta.name_of(pod), meta.namespace_of(pod),
                                         preconditions={"uid": meta.metadata(pod)["uid"]})
            except errors.APIError as exc:
                self.deletions.deletion_observed(key, meta.key_of(pod))
                if not isinstance(exc, errors.NotFound):
                    raise

        results = await asyncio.gather(*(delete_one(p, r) for p, r in victims),
                                       return_exceptions=True)
        return _first_error(results)

    async def _relabel(self, key: str, pod: Object) -> None:
        """updateIdentity: put back the pod-name label a pod must carry."""
        md = meta.metadata(pod)
        self.decision(key, "relabel", pod=md.get("name"))
        patch = {"metadata": {"resourceVersion": md.get("resourceVersion"),
                              "labels": {identity.POD_NAME_LABEL: md.get("name")}}}
        try:
            await self.client.patch("pods", md["name"], patch, md.get("namespace"))
        except errors.NotFound:
            return


def _first_error(results: list[Any]) -> BaseException | None:
    """The first failure of a gather; a cancellation is re-raised at once."""
    first: BaseException | None = None
    for result in results:
        if isinstance(result, asyncio.CancelledError):
            raise result
        if isinstance(result, BaseException) and first is None:
            first = result
    return first
