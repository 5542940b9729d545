"""The garbage collector: owner references drive deletion, as in Kubernetes.

Kubernetes' pkg/controller/garbagecollector, without its graph: the shared
informers' owner-uid index plays the graph's part. Keys are
`{resource}/{namespace}/{name}`; `reconcile(key)` looks at one object:

* an object with ownerReferences (a *dependent*): each owner is classified
  as *solid* (exists with that uid), *dangling* (gone, or a different uid;
  decided by a live GET, never by a possibly stale cache) or *waiting* (being
  deleted in the foreground). `decide` is attemptToDeleteItem's switch: no
  solid owner means delete it (background, or as its own finalizers say);
  solid and dangling ones mean drop the dangling references;
* an owner being deleted with the `foregroundDeletion` finalizer: its
  dependents are deleted (in the foreground themselves if they have
  dependents of their own); when no dependent with blockOwnerDeletion is
  left, the finalizer is removed and the apiserver deletes the owner;
* an owner being deleted with the `orphan` finalizer: every dependent loses
  its reference to the owner, then the finalizer is removed.

Deletes carry a uid precondition, so an object recreated under the same name
is never collected by mistake.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from apimachinery import errors, meta
from apimachinery.clock import Clock
from apimachinery.informer import Informer
from apimachinery.meta import Object
from apimachinery.resources import UnknownResourceError, by_kind, by_plural

from .base import (
    OWNER_UID_INDEX,
    UID_INDEX,
    Controller,
    ControllerClient,
    SharedInformerFactory,
    owner_uid_index,
    uid_index,
)
from .common import controller_ref as refs

# The resources whose objects can be owners or dependents (GC's monitored resources):
# the workloads and their pods, and Services and Endpoints (mirrored ones) with the
# EndpointSlices they own.
GC_RESOURCES: tuple[str, ...] = ("pods", "replicasets", "deployments", "statefulsets",
                                 "services", "endpoints", "endpointslices")
FOREGROUND = "foregroundDeletion"
ORPHAN = "orphan"
_ABSENT_CACHE_SIZE = 10_000


class OwnerState(Enum):
    SOLID = "solid"
    DANGLING = "dangling"
    WAITING = "waiting"  # being deleted, waiting for its dependents (foregroundDeletion)


@dataclass(frozen=True)
class Verdict:
    """What to do with a dependent: keep it, drop some owner references, or delete it."""

    action: str  # "keep" | "remove-owner-refs" | "delete"
    owner_uids: tuple[str, ...] = ()
    policy: str | None = None


def decide(states: Sequence[tuple[Object, OwnerState]], has_dependents: bool,
           finalizers: Sequence[str]) -> Verdict:
    """attemptToDeleteItem's decision for one dependent (pure)."""
    solid = [r for r, s in states if s is OwnerState.SOLID]
    dangling = [r for r, s in states if s is OwnerState.DANGLING]
    waiting = [r for r, s in states if s is OwnerState.WAITING]
    if solid:
        if not dangling and not waiting:
            return Verdict("keep")
        return Verdict("remove-owner-refs", tuple(r["uid"] for r in [*dangling, *waiting]))
    if waiting and has_dependents:
        return Verdict("delete", policy="Foreground")
    if ORPHAN in finalizers:
        return Verdict("delete", policy="Orphan")
    if FOREGROUND in finalizers:
        return Verdict("delete", policy="Foreground")
    return Verdict("delete", policy="Background")


def _finalizers(obj: Object) -> list[str]:
    return list(meta.metadata(obj).get("finalizers") or [])


def _owner_refs(obj: Object) -> list[Object]:
    return [r for r in meta.metadata(obj).get("ownerReferences") or []
            if isinstance(r, dict) and r.get("uid")]


def gc_key(plural: str, obj: Object) -> str:
    return f"{plural}/{meta.namespace_of(obj)}/{meta.name_of(obj)}"


class GarbageCollector(Controller):
    """Deletes dependents of deleted owners and runs the orphan/foreground finalizers."""

    name = "garbagecollector"

    def __init__(self, client: ControllerClient, factory: SharedInformerFactory, *,
                 workers: int = 5, clock: Clock | None = None,
                 resources: Sequence[str] = GC_RESOURCES) -> None:
        super().__init__(client, factory, workers=workers, clock=clock)
        self.informers: dict[str, Informer] = {}
        self._absent: set[str] = set()  # owner uids known gone (absentOwnerCache)
        for plural in resources:
            factory.add_indexer(plural, UID_INDEX, uid_index)
            factory.add_indexer(plural, OWNER_UID_INDEX, owner_uid_index)
            inf = factory.informer(plural)
            self.informers[plural] = inf
            inf.add_event_handler(*self._handlers(plural))

    # -- event handlers --------------------------------------------------------------------

    def _handlers(self, plural: str) -> tuple[Any, Any, Any]:
        def on_add(obj: Object) -> None:
            self._enqueue_if_interesting(plural, obj)

        def on_update(old: Object, new: Object) -> None:
            self._enqueue_if_interesting(plural, new)
            if FOREGROUND in _finalizers(new) and refs.is_deleting(new) and \
                    not (FOREGROUND in _finalizers(old) and refs.is_deleting(old)):
                self._enqueue_dependents(meta.metadata(new).get("uid", ""))
            if refs.is_deleting(new) or _owner_refs(old) != _owner_refs(new):
                self._enqueue_owners(old)

        def on_delete(obj: Object) -> None:
            self._enqueue_dependents(meta.metadata(obj).get("uid", ""))
            self._enqueue_owners(obj)

        return on_add, on_update, on_delete

    def _enqueue_if_interesting(self, plural: str, obj: Object) -> None:
        deleting = refs.is_deleting(obj) and {ORPHAN, FOREGROUND} & set(_finalizers(obj))
        if _owner_refs(obj) or deleting:
            self.queue.add(gc_key(plural, obj))

    def _enqueue_dependents(self, uid: str) -> None:
        for plural, dep in self._dependents(uid):
            self.queue.add(gc_key(plural, dep))

    def _enqueue_owners(self, obj: Object) -> None:
        """Owners deleting in the foreground recheck when a dependent goes or changes."""
        for ref in _owner_refs(obj):
            for plural, owner in self._by_uid(ref["uid"]):
                if refs.is_deleting(owner):
                    self.queue.add(gc_key(plural, owner))

    def _dependents(self, uid: str) -> list[tuple[str, Object]]:
        return [(plural, obj) for plural, inf in self.informers.items()
                for obj in inf.store.by_index(OWNER_UID_INDEX, uid)] if uid else []

    def _by_uid(self, uid: str) -> list[tuple[str, Object]]:
        return [(plural, obj) for plural, inf in self.informers.items()
                for obj in inf.store.by_index(UID_INDEX, uid)]

    # -- reconcile -------------------------------------------------------------------------

    async def reconcile(self, key: str) -> None:
        plural, namespace, name = key.split("/", 2)
        inf = self.informers.get(plural)
        obj = inf.store.get(f"{namespace}/{name}" if namespace else name) if inf else None
        if obj is None:
            return
        if refs.is_deleting(obj):
            if ORPHAN in _finalizers(obj):
                await self._orphan_dependents(key, plural, obj)
            elif FOREGROUND in _finalizers(obj):
                await self._delete_dependents(key, plural, obj)
            return  # being deleted otherwise: nothing for the GC until it is gone
        owners = _owner_refs(obj)
        if not owners:
            return
        states = [(ref, await self._owner_state(namespace, ref)) for ref in owners]
        uid = meta.metadata(obj).get("uid", "")
        verdict = decide(states, bool(self._dependents(uid)), _finalizers(obj))
        if verdict.action == "keep":
            return
        if verdict.action == "remove-owner-refs":
            await refs.release(self.client, plural, obj, *verdict.owner_uids)
            self.decision(key, "remove-owner-refs", owners=",".join(verdict.owner_uids))
            return
        self.decision(key, "delete", policy=verdict.policy,
                      owners=",".join(f"{r.get('kind')}/{r.get('name')}:{s.value}"
                                      for r, s in states))
        await self._delete(plural, obj, verdict.policy)

    async def _owner_state(self, namespace: str, ref: Object) -> OwnerState:
        """Classify one owner reference; 'gone' is only believed from a live read."""
        uid = str(ref.get("uid"))
        if uid in self._absent:
            return OwnerState.DANGLING
        try:
            info = by_kind(str(ref.get("apiVersion", "")), str(ref.get("kind", "")))
        except UnknownResourceError:
            return OwnerState.SOLID  # a kind we cannot look up is never assumed gone
        owner_ns = namespace if info.namespaced else None
        inf = self.informers.get(info.plural)
        key = f"{owner_ns}/{ref.get('name')}" if owner_ns else str(ref.get("name"))
        owner = inf.store.get(key) if inf else None
        if owner is None or meta.metadata(owner).get("uid") != uid:
            try:
                owner = await self.client.get(info, str(ref.get("name")), owner_ns)
            except errors.NotFound:
                owner = None
        if owner is None or meta.metadata(owner).get("uid") != uid:
            if len(self._absent) >= _ABSENT_CACHE_SIZE:
                self._absent.clear()
            self._absent.add(uid)
            return OwnerState.DANGLING
        if refs.is_deleting(owner) and FOREGROUND in _finalizers(owner):
            return OwnerState.WAITING
        return OwnerState.SOLID

    async def _delete(self, plural: str, obj: Object, policy: str | None) -> None:
        with contextlib.suppress(errors.NotFound, errors.Conflict):  # gone, or a new object
            await self.client.delete(plural, meta.name_of(obj), meta.namespace_of(obj) or None,
                                     propagation_policy=policy,
                                     preconditions={"uid": meta.metadata(obj)["uid"]})

    # -- owners being deleted ----------------------------------------------------------------

    async def _delete_dependents(self, key: str, plural: str, owner: Object) -> None:
        """processDeletingDependentsItem: remove the finalizer once no blocker is left."""
        uid = meta.metadata(owner)["uid"]
        dependents = self._dependents(uid)
        blocking = [(p, d) for p, d in dependents
                    if any(r["uid"] == uid and r.get("blockOwnerDeletion") is True
                           for r in _owner_refs(d))]
        if not blocking:
            await self._remove_finalizer(plural, owner, FOREGROUND)
            self.decision(key, "remove-finalizer", finalizer=FOREGROUND)
            return
        for dep_plural, dep in dependents:
            if not refs.is_deleting(dep):
                self.queue.add(gc_key(dep_plural, dep))
        self.decision(key, "wait", reason="dependents", blocking=len(blocking))

    async def _orphan_dependents(self, key: str, plural: str, owner: Object) -> None:
        """orphanDependents, then the orphan finalizer goes and the owner with it."""
        uid = meta.metadata(owner)["uid"]
        dependents = self._dependents(uid)
        for dep_plural, dep in dependents:
            await refs.release(self.client, dep_plural, dep, uid)
        await self._remove_finalizer(plural, owner, ORPHAN)
        self.decision(key, "orphan", dependents=len(dependents))

    async def _remove_finalizer(self, plural: str, obj: Object, finalizer: str) -> None:
        """Drop one finalizer from a fresh read (resourceVersion-guarded)."""
        info = by_plural(plural)
        try:
            live = await self.client.get(info, meta.name_of(obj), meta.namespace_of(obj) or None)
        except errors.NotFound:
            return
        if meta.metadata(live).get("uid") != meta.metadata(obj).get("uid"):
            return
        remaining = [f for f in _finalizers(live) if f != finalizer]
        if remaining == _finalizers(live):
            return
        patch = {"metadata": {"finalizers": remaining or None,
                              "resourceVersion": meta.resource_version_of(live)}}
        with contextlib.suppress(errors.NotFound):
            await self.client.patch(info, meta.name_of(live), patch,
                                    meta.namespace_of(live) or None)
