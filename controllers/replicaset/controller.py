"""The ReplicaSet controller: keep `spec.replicas` pods matching the selector alive.

Kubernetes' pkg/controller/replicaset/replica_set.go. `reconcile(key)`:

1. reads the ReplicaSet and the namespace's active pods from the caches;
2. claims pods (keeps its own, adopts matching orphans, releases its pods that
   no longer match; see `common.controller_ref`);
3. if its expectations are satisfied and it is not being deleted, decides with
   the pure `manage_replicas` how many pods to create or which to delete, and
   acts: creates in slow-start batches (1, 2, 4, ...) so a template the
   apiserver rejects costs one failed call, not hundreds; deletes the pods
   ranked cheapest to lose (`deletion_order.sort_for_deletion`);
4. writes `status` (replicas, fullyLabeledReplicas, readyReplicas,
   availableReplicas, observedGeneration) through the status subresource.

Expectations (`common.expectations`) make a burst of events harmless: until the
pods it created show up in the informer, a ReplicaSet is not synced again.
After a restart there are no expectations and the informer's fresh list is
the truth, so the count of existing pods is never exceeded.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from apimachinery import errors, meta
from apimachinery.clock import Clock
from apimachinery.conditions import is_ready
from apimachinery.informer import NAMESPACE_INDEX
from apimachinery.meta import Object
from apimachinery.selectors import selector_from_dict

from ..base import Controller, ControllerClient, SharedInformerFactory
from ..common import controller_ref as refs
from ..common.expectations import ControllerExpectations
from ..common.pods import is_pod_active, is_pod_available
from ..common.recorder import Recorder, about, recorder_for
from .deletion_order import pods_to_delete

BURST_REPLICAS = 500  # Kubernetes' BurstReplicas: at most this many creates/deletes a sync
SLOW_START_INITIAL_BATCH = 1


@dataclass
class Decision:
    """What manageReplicas decided: create `create` pods, or delete these pods."""

    create: int = 0
    delete: list[Object] = field(default_factory=list)


def desired_replicas(obj: Object) -> int:
    replicas = (obj.get("spec") or {}).get("replicas")
    return 1 if replicas is None else int(replicas)


def manage_replicas(rs: Object, pods: list[Object], related: list[Object] | None = None,
                    burst: int = BURST_REPLICAS) -> Decision:
    """How many pods to add, or which to remove, to reach spec.replicas (pure).

    `pods` are the active pods the ReplicaSet owns; `related` are the active pods of
    its sibling ReplicaSets too (same Deployment), used to prefer deleting pods
    doubled up on a node. At most `burst` pods change per sync.
    """
    diff = len(pods) - desired_replicas(rs)
    if diff < 0:
        return Decision(create=min(-diff, burst))
    if diff > 0:
        return Decision(delete=pods_to_delete(pods, related, min(diff, burst)))
    return Decision()


async def slow_start_batch(count: int, initial: int,
                           fn: Callable[[], Awaitable[None]]) -> tuple[int, Exception | None]:
    """Call `fn` `count` times in batches of 1, 2, 4, ...; stop at the first failed batch.

    Returns (successes, first error). Kubernetes' slowStartBatch: a request that
    fails for every pod (a quota, a bad template) fails once, not `count` times.
    """
    remaining, successes = count, 0
    batch = min(remaining, initial)
    while batch > 0:
        results = await asyncio.gather(*(fn() for _ in range(batch)), return_exceptions=True)
        failures: list[Exception] = []
        for result in results:
            if isinstance(result, Exception):
                failures.append(result)
            elif isinstance(result, BaseException):
                raise result  # cancelled: stop at once
        successes += batch - len(failures)
        if failures:
            return successes, failures[0]
        remaining -= batch
        batch = min(2 * batch, remaining)
    return successes, None


def pod_from_template(rs: Object, api_version: str = "apps/v1",
                      kind: str = "ReplicaSet") -> Object:
    """GetPodFromTemplate: the template's labels, annotations and spec, owned by `rs`."""
    template = (rs.get("spec") or {}).get("template") or {}
    tmeta = template.get("metadata") or {}
    md: Object = {"generateName": f"{meta.name_of(rs)}-", "namespace": meta.namespace_of(rs),
                  "ownerReferences": [refs.new_controller_ref(rs, api_version, kind)]}
    for key in ("labels", "annotations", "finalizers"):
        if tmeta.get(key):
            md[key] = meta.deep_copy(tmeta[key])
    return {"apiVersion": "v1", "kind": "Pod", "metadata": md,
            "spec": meta.deep_copy(template.get("spec") or {})}


def calculate_status(rs: Object, pods: list[Object], now: datetime,
                     manage_error: Exception | None = None) -> Object:
    """calculateStatus: counts over the claimed active pods, and the ReplicaFailure condition."""
    template_labels = ((rs.get("spec") or {}).get("template") or {}).get("metadata", {}) \
        .get("labels") or {}
    min_ready = int((rs.get("spec") or {}).get("minReadySeconds") or 0)
    labeled = sum(1 for p in pods
                  if all(meta.labels_of(p).get(k) == v for k, v in template_labels.items()))
    ready = [p for p in pods if is_ready(p)]
    available = sum(1 for p in ready if is_pod_available(p, min_ready, now))
    conditions = [c for c in (rs.get("status") or {}).get("conditions") or []
                  if c.get("type") != "ReplicaFailure"]
    if manage_error is not None:
        reason = "FailedCreate" if len(pods) < desired_replicas(rs) else "FailedDelete"
        conditions.append({"type": "ReplicaFailure", "status": "True", "reason": reason,
                           "message": str(manage_error),
                           "lastTransitionTime": now.strftime("%Y-%m-%dT%H:%M:%SZ")})
    status: Object = {"replicas": len(pods), "fullyLabeledReplicas": labeled,
                      "readyReplicas": len(ready), "availableReplicas": available,
                      "observedGeneration": int(meta.metadata(rs).get("generation") or 0)}
    if conditions:
        status["conditions"] = conditions
    return status


def status_changed(rs: Object, status: Object) -> bool:
    """Whether `status` differs from what is stored (conditions compared by type/reason)."""
    old = rs.get("status") or {}
    fields = ("replicas", "fullyLabeledReplicas", "readyReplicas", "availableReplicas",
              "observedGeneration")
    if any(int(old.get(f) or 0) != int(status.get(f) or 0) for f in fields):
        return True

    def conds(s: Object) -> list[tuple[str, str, str]]:
        return [(c.get("type", ""), c.get("status", ""), c.get("reason", ""))
                for c in s.get("conditions") or []]
    return conds(old) != conds(status)


def _namespace_terminating(exc: Exception) -> bool:
    """The apiserver refuses new objects in a terminating namespace (NamespaceTerminatingCause)."""
    return isinstance(exc, errors.Forbidden) and "being terminated" in exc.message


class ReplicaSetController(Controller):
    """Reconciles ReplicaSets against the pods they own."""

    name = "replicaset"

    def __init__(self, client: ControllerClient, factory: SharedInformerFactory, *,
                 workers: int = 2, clock: Clock | None = None,
                 burst_replicas: int = BURST_REPLICAS, recorder: Recorder | None = None) -> None:
        super().__init__(client, factory, workers=workers, clock=clock)
        self.recorder = recorder_for(client, "replicaset-controller", self.clock, recorder)
        self.burst_replicas = burst_replicas
        self.expectations = ControllerExpectations(self.clock, controller=self.name)
        self.rs_informer = factory.informer("replicasets")
        self.pod_informer = factory.informer("pods")
        self.rs_informer.add_event_handler(self.enqueue, self._rs_updated, self._rs_deleted)
        self.pod_informer.add_event_handler(self._pod_added, self._pod_updated,
                                            self._pod_deleted)

    # -- event handlers: only enqueue keys and record observations ------------------------

    def _rs_updated(self, old: Object, new: Object) -> None:
        self.enqueue(new)

    def _rs_deleted(self, rs: Object) -> None:
        self.expectations.delete(meta.key_of(rs))
        self.enqueue(rs)

    def _owner(self, pod: Object) -> Object | None:
        return refs.resolve_controller_ref(self.rs_informer.store.get, meta.namespace_of(pod),
                                           refs.controller_ref(pod), "ReplicaSet")

    def _matching(self, pod: Object) -> list[Object]:
        """ReplicaSets whose selector matches an orphan pod (candidates to adopt it)."""
        found = []
        for rs in self.rs_informer.store.by_index(NAMESPACE_INDEX, meta.namespace_of(pod)):
            try:
                if selector_from_dict((rs.get("spec") or {}).get("selector")).matches(
                        meta.labels_of(pod)):
                    found.append(rs)
            except errors.BadRequest:
                continue
        return found

    def _pod_added(self, pod: Object) -> None:
        if refs.is_deleting(pod):
            self._pod_deleted(pod)  # seen first while terminating: a deletion to observe
            return
        if refs.controller_ref(pod) is not None:
            rs = self._owner(pod)
            if rs is not None:
                self.expectations.creation_observed(meta.key_of(rs))
                self.enqueue(rs)
            return
        for rs in self._matching(pod):
            self.enqueue(rs)

    def _pod_updated(self, old: Object, cur: Object) -> None:
        if meta.resource_version_of(old) == meta.resource_version_of(cur):
            return  # a resync: nothing changed for the pod's owner
        labels_changed = meta.labels_of(old) != meta.labels_of(cur)
        if refs.is_deleting(cur):
            self._pod_deleted(cur)
            if labels_changed:
                self._pod_deleted(old)
            return
        owners, rs = refs.owners_to_sync(old, cur, self._owner, self._matching)
        for owner in owners:
            self.enqueue(owner)
        if rs is not None:  # a pod that just became ready is available minReadySeconds later
            min_ready = int((rs.get("spec") or {}).get("minReadySeconds") or 0)
            if min_ready > 0 and not is_ready(old) and is_ready(cur):
                self.enqueue_after(rs, min_ready + 1)

    def _pod_deleted(self, pod: Object) -> None:
        rs = self._owner(pod)
        if rs is not None:
            self.expectations.deletion_observed(meta.key_of(rs), meta.key_of(pod))
            self.enqueue(rs)

    # -- reconcile ---------------------------------------------------------------------------

    async def reconcile(self, key: str) -> None:
        rs = self.rs_informer.store.get(key)
        if rs is None:
            self.expectations.delete(key)
            self.decision(key, "forget", reason="not-found")
            return
        try:
            selector = selector_from_dict((rs.get("spec") or {}).get("selector"))
        except errors.BadRequest as exc:
            self.decision(key, "skip", reason="invalid-selector", error=repr(exc.message))
            return
        needs_sync = self.expectations.satisfied(key)
        active = [p for p in self.pod_informer.store.by_index(NAMESPACE_INDEX,
                                                              meta.namespace_of(rs))
                  if is_pod_active(p)]
        pods = await refs.claim_objects(
            self.client, rs, "replicasets", "ReplicaSet", selector, active, "pods",
            lambda action, pod: self.decision(key, action, pod=meta.name_of(pod)))
        manage_error: Exception | None = None
        if needs_sync and not refs.is_deleting(rs):
            try:
                await self._manage(key, rs, pods)
            except errors.APIError as exc:
                manage_error = exc
        elif not needs_sync:
            self.decision(key, "wait", reason="expectations",
                          pending=self.expectations.pending(key))
        status = calculate_status(rs, pods, self.clock.now(), manage_error)
        if status_changed(rs, status):
            updated = meta.deep_copy(rs)
            updated["status"] = status
            await self.client.update_status("replicasets", updated)
        if manage_error is not None:
            raise manage_error
        min_ready = int((rs.get("spec") or {}).get("minReadySeconds") or 0)
        if min_ready > 0 and status["readyReplicas"] == desired_replicas(rs) \
                and status["availableReplicas"] != desired_replicas(rs):
            self.queue.add_after(key, min_ready)

    def _related_pods(self, rs: Object) -> list[Object]:
        """Active pods of this ReplicaSet and its siblings under the same controller."""
        owner = refs.controller_ref(rs)
        ns = meta.namespace_of(rs)
        uids = {meta.metadata(rs).get("uid")}
        if owner is not None:
            for other in self.rs_informer.store.by_index(NAMESPACE_INDEX, ns):
                other_owner = refs.controller_ref(other)
                if other_owner is not None and other_owner.get("uid") == owner.get("uid"):
                    uids.add(meta.metadata(other).get("uid"))
        return [p for p in self.pod_informer.store.by_index(NAMESPACE_INDEX, ns)
                if is_pod_active(p) and (refs.controller_ref(p) or {}).get("uid") in uids]

    async def _manage(self, key: str, rs: Object, pods: list[Object]) -> None:
        decision = manage_replicas(rs, pods, self._related_pods(rs), self.burst_replicas)
        if decision.create:
            await self._create_pods(key, rs, decision.create, len(pods))
        elif decision.delete:
            await self._delete_pods(key, rs, decision.delete, len(pods))

    async def _create_pods(self, key: str, rs: Object, count: int, have: int) -> None:
        self.expectations.expect_creations(key, count)
        self.decision(key, "create", count=count, have=have, want=desired_replicas(rs))
        template = pod_from_template(rs)
        namespace = meta.namespace_of(rs)

        async def create_one() -> None:
            try:
                pod = await self.client.create("pods", meta.deep_copy(template), namespace)
            except errors.Forbidden as exc:
                if not _namespace_terminating(exc):
                    self._event(rs, "FailedCreate", f"Error creating: {exc.message}", True)
                    raise
                self.expectations.creation_observed(key)  # nothing will ever be observed
            except errors.APIError as exc:
                self._event(rs, "FailedCreate", f"Error creating: {exc.message}", True)
                raise
            else:
                self._event(rs, "SuccessfulCreate", f"Created pod: {meta.name_of(pod)}")

        created, error = await slow_start_batch(count, SLOW_START_INITIAL_BATCH, create_one)
        for _ in range(count - created):  # never attempted or failed: not to be observed
            self.expectations.creation_observed(key)
        if error is not None:
            self.decision(key, "create-failed", created=created, skipped=count - created,
                          error=repr(error))
            raise error

    def _event(self, rs: Object, reason: str, message: str, warning: bool = False) -> None:
        """SuccessfulCreate, SuccessfulDelete and their failures, as `kubectl describe rs`
        lists them in Kubernetes."""
        self.recorder.record(about(rs, "ReplicaSet", "apps/v1"), reason, message,
                             warning=warning)

    async def _delete_pods(self, key: str, rs: Object, victims: list[Object],
                           have: int) -> None:
        self.expectations.expect_deletions(key, [meta.key_of(p) for p in victims])
        self.decision(key, "delete", count=len(victims), have=have,
                      pods=",".join(meta.name_of(p) for p in victims))

        async def delete_one(pod: Object) -> None:
            try:
                await self.client.delete("pods", meta.name_of(pod), meta.namespace_of(pod))
            except errors.APIError as exc:
                self.expectations.deletion_observed(key, meta.key_of(pod))
                if not isinstance(exc, errors.NotFound):
                    self._event(rs, "FailedDelete", f"Error deleting: {exc.message}", True)
                    raise
            else:
                self._event(rs, "SuccessfulDelete", f"Deleted pod: {meta.name_of(pod)}")

        results = await asyncio.gather(*(delete_one(p) for p in victims),
                                       return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result
