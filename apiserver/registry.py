"""The generic registry: create, get, list, update, delete for every kind, once.

Kubernetes' `genericregistry.Store` in Python. Everything kind-specific lives
in a `Strategy`; everything about etcd lives in `Storage`. This module holds
the object lifecycle rules that are the same for every kind: server-set
metadata, optimistic concurrency on resourceVersion, finalizers and
deletionTimestamp, graceful deletion where the strategy asks for it, and the
admission checks kinds contribute. Kinds that hold values from a shared range
(a Service's ClusterIP and NodePorts) add an `Allocator`, whose reservations go
into the same etcd transaction as the write. It names no kind: each comes from
`apiserver/kinds/`.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from apimachinery import errors
from apimachinery.meta import Object, deep_copy, now_rfc3339
from apimachinery.resources import ResourceInfo

from .allocator import Allocator, reserver
from .kind import Admission, Kind, Strategy, reject
from .managedfields import managed as managedfields
from .managedfields import request as writers
from .params import INT64_MAX, INT64_MIN, parse_int64
from .storage import (
    KeyExistsError,
    KeyMissingError,
    ListPage,
    ReservationTakenError,
    RevisionMismatchError,
    Storage,
)
from .validation import validate
from .validation.fields import is_int

if TYPE_CHECKING:
    from .kinds import Kinds


_NAME_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # Kubernetes' SimpleNameGenerator
# Creates retried when a generated name or an allocated value was taken meanwhile.
_MAX_CREATE_ATTEMPTS = 16


@dataclass
class DeleteOptions:
    """The parts of metav1.DeleteOptions Schooner honours."""

    propagation_policy: str | None = None
    grace_period_seconds: int | None = None
    precondition_uid: str | None = None
    precondition_resource_version: str | None = None
    # `dryRun: ["All"]` in the body: kubectl's `delete --dry-run=server` and the client
    # libraries' DeleteOptions (the Python client's V1DeleteOptions) ask there, not in
    # the query, so a handler that looked only at the query would really delete.
    dry_run: bool = False

    @classmethod
    def from_body(cls, body: Object | None, query: dict[str, str]) -> DeleteOptions:
        body = body or {}
        dry_run = body.get("dryRun") or []
        if not isinstance(dry_run, list) or any(v != "All" for v in dry_run):
            raise errors.BadRequest(f"dryRun: unsupported value {dry_run!r}: must be All")
        pre = body.get("preconditions") or {}
        if not isinstance(pre, dict) or not all(
                isinstance(pre.get(k), str | None) for k in ("uid", "resourceVersion")):
            # was an AttributeError (a 500) for `"preconditions": "abc"`
            raise errors.BadRequest(f"preconditions: invalid value {pre!r}: must be an object "
                                    "of uid and resourceVersion strings")
        policy = body.get("propagationPolicy") or query.get("propagationPolicy")
        orphan = body.get("orphanDependents")
        if orphan is None and "orphanDependents" in query:  # the dynamic client's way
            orphan = query["orphanDependents"].lower() in ("true", "1")
        if orphan is True:
            policy = policy or "Orphan"
        if policy not in (None, "Orphan", "Background", "Foreground"):
            raise errors.BadRequest(f"propagationPolicy: unsupported value {policy!r}: "
                                    "must be Orphan, Background or Foreground")
        return cls(policy, _grace_period(body, query), pre.get("uid"),
                   pre.get("resourceVersion"), bool(dry_run))


def _grace_period(body: Object, query: dict[str, str]) -> int | None:
    """DeleteOptions.gracePeriodSeconds, an int64: a JSON integer in the body, else a decimal
    in the query; a float, a bool, a string in the body or a number past 64 bits is a 400
    (`int()` truncated 1.5 and took "5", and 2**62 seconds overflowed the deletion time)."""
    if "gracePeriodSeconds" not in body:
        value = query.get("gracePeriodSeconds")
        return None if value is None else parse_int64(value, "gracePeriodSeconds")
    value = body["gracePeriodSeconds"]
    if value is None:
        return None
    if not is_int(value) or not INT64_MIN <= value <= INT64_MAX:
        raise errors.BadRequest(
            f"gracePeriodSeconds: invalid value {value!r}: must be a 64-bit integer")
    return value


def storage_key(resource: ResourceInfo, namespace: str | None, name: str) -> str:
    """`/registry/{resource}/{namespace}/{name}`, or without the namespace when cluster-scoped."""
    if resource.namespaced:
        return f"/registry/{resource.plural}/{namespace}/{name}"
    return f"/registry/{resource.plural}/{name}"


def collection_prefix(resource: ResourceInfo, namespace: str | None) -> str:
    if resource.namespaced and namespace:
        return f"/registry/{resource.plural}/{namespace}/"
    return f"/registry/{resource.plural}/"


def _stale(resource: ResourceInfo, name: str) -> errors.Conflict:
    return errors.conflict(resource.group_resource, name,
                           "the object has been modified; please apply your changes to the "
                           "latest version and try again")


def _check_preconditions(resource: ResourceInfo, name: str, options: DeleteOptions,
                         meta: Object) -> None:
    """A delete's preconditions, refused in Kubernetes' words (storage.Preconditions.Check,
    turned into a Conflict by the store) so a client sees which one failed and why."""
    checks = (("UID", options.precondition_uid, meta.get("uid")),
              ("ResourceVersion", options.precondition_resource_version,
               meta.get("resourceVersion")))
    for what, wanted, actual in checks:
        if wanted and wanted != actual:
            raise errors.conflict(resource.group_resource, name,
                                  f"Precondition failed: {what} in precondition: {wanted}, "
                                  f"{what} in object meta: {actual}")


class Registry:
    """Object lifecycle on top of Storage, for any resource in the table."""

    def __init__(self, storage: Storage, kinds: Kinds,
                 allocators: Mapping[str, Allocator] | None = None,
                 ttls: Mapping[str, int] | None = None,
                 admissions: Sequence[Admission] = ()) -> None:
        self.storage = storage
        self.kinds = kinds
        # Admission checks of no kind (NodeRestriction), after the kinds' own.
        self._admissions = tuple(admissions)
        self._allocators = dict(allocators or {})
        # Seconds each expiring resource lives after a write (its Kind's ttl hook).
        self._ttls = dict(ttls or {})

    def kind(self, resource: ResourceInfo) -> Kind:
        return self.kinds.get(resource)

    def strategy(self, resource: ResourceInfo) -> Strategy:
        return self.kinds.get(resource).strategy

    async def _admit(self, resource: ResourceInfo, namespace: str | None, obj: Object,
                     old: Object | None) -> None:
        """The admission checks kinds contribute (NamespaceLifecycle, Priority, ...)."""
        for admit in (*self.kinds.admissions(), *self._admissions):
            await admit(self, resource, namespace, obj, old)

    def _validate(self, kind: Kind, obj: Object, old: Object | None) -> None:
        """Raise errors.Invalid with every offending field path."""
        problems = validate(kind, obj, old)
        if problems:
            raise kind.invalid(obj, problems)

    # -- reads ------------------------------------------------------------------------

    async def get(self, resource: ResourceInfo, namespace: str | None, name: str) -> Object:
        obj = await self.storage.get(storage_key(resource, namespace, name))
        if obj is None:
            raise errors.not_found(resource.group_resource, name)
        return _with_type(resource, obj)

    async def list(self, resource: ResourceInfo, namespace: str | None, *,
                   limit: int = 0, continue_token: str | None = None,
                   resource_version: int = 0, keep: Any = None,
                   ) -> ListPage:
        page = await self.storage.list(
            collection_prefix(resource, namespace), limit=limit,
            continue_token=continue_token, resource_version=resource_version, keep=keep)
        return page._replace(items=[_with_type(resource, o) for o in page.items])

    # -- create -----------------------------------------------------------------------

    async def create(self, resource: ResourceInfo, namespace: str | None, body: Object,
                     ) -> Object:
        requested = _managed_fields(body)
        obj = self._prepare_new(resource, namespace, body)
        kind = self.kind(resource)
        kind.strategy.prepare_for_create(obj)
        kind.defaulted(obj)
        self._validate(kind, obj, None)
        _track(resource, None, obj, requested)
        await self._admit(resource, namespace, obj, None)
        allocator = self._allocators.get(resource.plural)
        name_taken = False
        for _ in range(_MAX_CREATE_ATTEMPTS):
            # Allocation starts from the request every time: a value picked for a lost
            # race is not the client's explicit choice.
            candidate = deep_copy(obj) if allocator else obj
            reservations = await allocator.allocate(candidate, None) if allocator else None
            try:
                created = await self.storage.create(
                    storage_key(resource, namespace, obj["metadata"]["name"]), candidate,
                    reservations=reservations, ttl=self._ttls.get(resource.plural))
                return _with_type(resource, created)
            except ReservationTakenError:
                name_taken = False  # another write got an IP or port first: allocate again
            except KeyExistsError:
                name_taken = True
                if not body.get("metadata", {}).get("generateName") or \
                        body.get("metadata", {}).get("name"):
                    raise errors.already_exists(resource.group_resource,
                                                obj["metadata"]["name"]) from None
                obj["metadata"]["name"] = _generate_name(body["metadata"]["generateName"])
        if name_taken:
            raise errors.AlreadyExists("could not generate a unique name")
        raise errors.Conflict(f"could not allocate for {resource.plural}: too many concurrent "
                              "creates, try again")

    def _prepare_new(self, resource: ResourceInfo, namespace: str | None,
                     body: Object) -> Object:
        obj = deep_copy(body)
        obj["apiVersion"], obj["kind"] = resource.api_version, resource.kind
        meta = obj.setdefault("metadata", {})
        if not isinstance(meta, dict):
            raise reject(resource, "", "metadata", "must be an object")
        for field in _SERVER_SET:
            meta.pop(field, None)
        _drop_empty(meta)
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = _generate_name(str(meta["generateName"]))
        if resource.namespaced:
            if meta.get("namespace") and meta["namespace"] != namespace:
                raise errors.BadRequest(
                    "the namespace of the provided object does not match the namespace sent "
                    f"on the request ({meta['namespace']!r} != {namespace!r})")
            meta["namespace"] = namespace
        else:
            meta.pop("namespace", None)
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = now_rfc3339()
        return obj

    # -- update -----------------------------------------------------------------------

    async def update(self, resource: ResourceInfo, namespace: str | None, name: str,
                     body: Object, *, subresource: str | None = None) -> Object:
        """PUT: replace the object, honouring its resourceVersion as a precondition."""
        meta = body.get("metadata") if isinstance(body.get("metadata"), dict) else None
        if meta is None:
            raise reject(resource, name, "metadata", "Required value")
        if meta.get("name") and meta["name"] != name:
            raise errors.BadRequest(
                f"the name of the object ({meta['name']}) does not match the name on the URL "
                f"({name})")
        expected_rv = str(meta.get("resourceVersion") or "")

        def change(current: Object) -> Object:
            if expected_rv and expected_rv != current["metadata"]["resourceVersion"]:
                raise _stale(resource, name)
            return body

        return await self.update_with(resource, namespace, name, change,
                                      subresource=subresource)

    async def update_with(self, resource: ResourceInfo, namespace: str | None, name: str,
                          change: Any, *, subresource: str | None = None) -> Object:
        """Apply `change(current) -> new body` (a patch) under compare-and-swap."""

        final: list[Object] = []

        async def mutate(current: Object) -> Object | None:
            body = change(deep_copy(current))
            meta = body.get("metadata") if isinstance(body.get("metadata"), dict) else {}
            rv = str(meta.get("resourceVersion") or "")
            if rv and rv != current["metadata"]["resourceVersion"]:
                raise _stale(resource, name)
            if meta.get("name", name) != name:
                raise errors.BadRequest("metadata.name may not be changed by a patch")
            new = self._next_version(resource, current, body, subresource)
            await self._admit(resource, namespace, new, current)
            final[:] = [new]
            # The last finalizer went away from an object being deleted: remove it.
            deleting = bool(new["metadata"].get("deletionTimestamp"))
            return None if deleting and not self.strategy(resource).has_finalizers(new) else new

        key = storage_key(resource, namespace, name)
        try:
            result = await self.storage.guaranteed_update(
                key, mutate, reserve=reserver(self._allocators.get(resource.plural)),
                ttl=self._ttls.get(resource.plural))
        except KeyMissingError:
            raise errors.not_found(resource.group_resource, name) from None
        return _with_type(resource, result if result is not None else final[0])

    def _next_version(self, resource: ResourceInfo, current: Object, body: Object,
                      subresource: str | None) -> Object:
        """The object an update stores: defaulted, validated, server metadata kept."""
        kind = self.kind(resource)
        strategy = kind.strategy
        new = deep_copy(body)
        new["apiVersion"], new["kind"] = resource.api_version, resource.kind
        new.setdefault("metadata", {})
        requested = _managed_fields(new)
        if subresource == "status":
            new = strategy.prepare_for_status_update(new, current)
        elif subresource:
            new = strategy.prepare_for_subresource_update(subresource, new, current)
        else:
            strategy.prepare_for_update(new, current)
        _keep_server_metadata(new, current, resource)
        _drop_empty(new["metadata"])
        kind.defaulted(new)
        self._validate(kind, new, current)
        _track(resource, current, new, requested)
        return new

    async def update_raw(self, resource: ResourceInfo, namespace: str | None, name: str,
                         change: Callable[[Object], Object]) -> Object:
        """Compare-and-swap `change(current)` with no strategy, for subresources that carry
        their own rules (binding may set spec.nodeName, which a normal update may not)."""

        async def mutate(current: Object) -> Object:
            return change(current)

        try:
            result = await self.storage.guaranteed_update(
                storage_key(resource, namespace, name), mutate,
                ttl=self._ttls.get(resource.plural))
        except KeyMissingError:
            raise errors.not_found(resource.group_resource, name) from None
        assert result is not None
        return _with_type(resource, result)

    # -- delete -----------------------------------------------------------------------

    async def delete(self, resource: ResourceInfo, namespace: str | None, name: str,
                     options: DeleteOptions) -> tuple[Object, bool]:
        """Delete or mark for deletion; returns (the object, whether it is gone now)."""
        strategy = self.strategy(resource)
        strategy.check_delete(name)
        gone = True
        last: list[Object] = []

        async def mutate(current: Object) -> Object | None:
            nonlocal gone
            meta = current["metadata"]
            _check_preconditions(resource, name, options, meta)
            marked = _mark_for_deletion(strategy, current, options)
            gone = marked is None
            last[:] = [current]
            return marked

        key = storage_key(resource, namespace, name)
        try:
            result = await self.storage.guaranteed_update(
                key, mutate, reserve=reserver(self._allocators.get(resource.plural)),
                ttl=self._ttls.get(resource.plural))
        except KeyMissingError:
            raise errors.not_found(resource.group_resource, name) from None
        return _with_type(resource, result if result is not None else last[0]), gone


_SERVER_SET = ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds",
               "generation", "resourceVersion", "managedFields", "selfLink")


def _keep_server_metadata(new: Object, current: Object, resource: ResourceInfo) -> None:
    """Fields a client cannot change by update: identity, timestamps, deletion state."""
    meta, old = new["metadata"], current["metadata"]
    for field in ("uid", "creationTimestamp", "deletionTimestamp",
                  "deletionGracePeriodSeconds", "name", "namespace"):
        if field in old:
            meta[field] = old[field]
        else:
            meta.pop(field, None)
    meta["resourceVersion"] = old.get("resourceVersion", "")
    if "managedFields" in old:  # a write without a writer (the registry's own) keeps them
        meta["managedFields"] = old["managedFields"]
    else:
        meta.pop("managedFields", None)
    if not resource.namespaced:
        meta.pop("namespace", None)


_ABSENT: Any = object()


def _managed_fields(body: Object) -> Any:
    """The managedFields a write's body carries (`_ABSENT` when it has none)."""
    meta = body.get("metadata")
    return meta.get("managedFields", _ABSENT) if isinstance(meta, dict) else _ABSENT


def _track(resource: ResourceInfo, current: Object | None, new: Object,
           requested: Any) -> None:
    """Record the request's writer in `new`'s managedFields (see apiserver.managedfields).

    An apply computed them already, with the object it merged: they are kept as the
    body carried them. Any other write is an Update operation; without a writer (the
    registry's own writes, bootstrap objects) the stored ones stay as they are.
    """
    writer = writers.current()
    if writer is None:
        return
    if writer.applying:
        if requested is not _ABSENT and requested:
            new["metadata"]["managedFields"] = requested
        else:
            new["metadata"].pop("managedFields", None)
        return
    managedfields.record_update(current, new, None if requested is _ABSENT else requested,
                                writer, resource.api_version, resource.kind)


# ObjectMeta's maps and lists, `omitempty` in Kubernetes: empty ones are never stored.
_OMIT_EMPTY = ("labels", "annotations", "finalizers", "ownerReferences")


def _drop_empty(meta: Object) -> None:
    """Remove empty labels, annotations, finalizers and ownerReferences.

    Kubernetes stores ObjectMeta through Go's `omitempty`, so `kubectl label x a-` on
    the last label, or the `annotations: {}` that `kubectl diff` and `apply` send for
    an object without annotations, leave no empty map behind; a stored `{}` would show
    up in every `kubectl diff` as a change.
    """
    for name in _OMIT_EMPTY:
        if name in meta and (meta[name] is None or (
                isinstance(meta[name], dict | list) and not meta[name])):
            del meta[name]


def _mark_for_deletion(strategy: Strategy, obj: Object,
                       options: DeleteOptions) -> Object | None:
    """What DELETE does to a stored object: None to remove it now, else the marked object.

    Kubernetes' BeforeDelete: dependents' policy becomes a finalizer (orphan,
    foregroundDeletion) for the garbage collector; objects with finalizers, and
    objects the kind deletes gracefully (a pod still running on a node), get a
    deletionTimestamp and stay until their finalizers are cleared or their
    owner (the node agent) confirms they stopped.
    """
    meta = obj["metadata"]
    finalizers = list(meta.get("finalizers") or [])
    policy = options.propagation_policy
    if policy == "Orphan" and "orphan" not in finalizers and strategy.orphans_dependents:
        finalizers.append("orphan")
    if policy == "Foreground" and "foregroundDeletion" not in finalizers:
        finalizers.append("foregroundDeletion")
    grace = strategy.grace_period_seconds(obj, options)
    strategy.begin_delete(obj)
    if not finalizers and grace == 0 and not strategy.has_finalizers(obj):
        return None
    meta["finalizers"] = finalizers or meta.get("finalizers")
    if not meta["finalizers"]:
        meta.pop("finalizers")
    if not meta.get("deletionTimestamp") or grace < int(meta.get(
            "deletionGracePeriodSeconds") or 0):
        meta["deletionTimestamp"] = _deletion_time(grace)
        meta["deletionGracePeriodSeconds"] = grace
    if grace == 0 and not strategy.has_finalizers(obj):
        return None
    if meta.get("generation"):  # BeforeDelete moves only a generation the kind keeps
        meta["generation"] = int(meta["generation"]) + 1
    return obj


def _deletion_time(grace: int) -> str:
    """Now plus the grace period, as RFC 3339; a grace period past the year 9999 (an int64
    of seconds may be) ends at the last second a timestamp can carry."""
    try:
        when = datetime.now(UTC) + timedelta(seconds=grace)
    except OverflowError:
        when = datetime.max
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _generate_name(prefix: str) -> str:
    return prefix + "".join(secrets.choice(_NAME_SUFFIX_ALPHABET) for _ in range(5))


def _with_type(resource: ResourceInfo, obj: Object) -> Object:
    obj["apiVersion"], obj["kind"] = resource.api_version, resource.kind
    return obj


__all__ = ["Allocator", "DeleteOptions", "Registry", "RevisionMismatchError", "collection_prefix",
           "storage_key"]
