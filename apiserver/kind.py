"""What a kind tells the generic apiserver: the shape every `apiserver/kinds/` module fills in.

Kubernetes' generic registry store (`k8s.io/apiserver/pkg/registry/generic/
registry/store.go`) is written once and asks each kind's strategy
(`pkg/registry/core/pod/strategy.go`) what differs. Here the same split holds:
the registry, storage and handlers know no kind by name, and each kind's module
declares one `Kind`: its resource (names, scope, group/version), its typed
model, defaulting, validation, its `Strategy`, its table columns, its
subresources as handlers it owns, and the hooks a few kinds need (an allocator
for values taken from a shared range, objects every cluster starts with, an
admission check on other kinds' creates). docs/adding-a-kind.md walks through
writing one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from fastapi import Request, Response, WebSocket

from apimachinery import errors
from apimachinery.errors import FieldError
from apimachinery.meta import Object, deep_copy
from apimachinery.models import TypedObject
from apimachinery.printers import Layout
from apimachinery.resources import ResourceInfo

from .config import ServerConfig
from .fieldvalidation import FieldValidation
from .patch import apply_patch
from .wire import check_kind, decode_object, read_body, respond

if TYPE_CHECKING:
    from .allocator import Allocator
    from .registry import DeleteOptions, Registry
    from .requestinfo import RequestInfo
    from .storage import Storage

Errs = list[FieldError]
Defaulter = Callable[[Object], None]
Validator = Callable[[Object, Object | None], Errs]
NameRule = Callable[[str], list[str]]
AllocatorFactory = Callable[["Storage", ServerConfig], "Allocator"]
Bootstrap = Callable[["Registry", ServerConfig], Awaitable[None]]


class Background(Protocol):
    """Work a kind does in every apiserver while it serves, started once it is ready and
    stopped first at shutdown (the `kubernetes` Service's endpoint reconciler)."""

    def start(self) -> None: ...

    async def stop(self) -> None: ...


BackgroundFactory = Callable[["Registry", ServerConfig], "Background | None"]
# Seconds an object of the kind lives after its last write (an etcd lease), from the
# server's flags (Kubernetes' `TTLFunc` of a kind's store: Events and `--event-ttl`).
TTL = Callable[[ServerConfig], int]
# A kind that is never stored: a POST's answer is computed from the request and its
# decoded body (Kubernetes' reviews, rest.Creater without a store). Such a kind serves
# `create` only (its resource's verbs).
Compute = Callable[[Request, Object], Awaitable[Object]]
# An admission check run on every create (old is None) and update of an object of any
# kind, after validation and before it is stored: (registry, the object's resource, its
# namespace, the object, the stored object) -> raise to refuse, or mutate the object.
Admission = Callable[["Registry", ResourceInfo, "str | None", Object, "Object | None"],
                     Awaitable[None]]


def _spec_part(obj: Object) -> Object:
    """Everything that counts as the object's desired state (not metadata, not status)."""
    return {k: v for k, v in obj.items()
            if k not in ("metadata", "status", "apiVersion", "kind")}


class Strategy:
    """What create, update and delete do differently per kind; the defaults suit most.

    Mirrors `rest.RESTCreateStrategy`/`RESTUpdateStrategy`/`RESTDeleteStrategy`
    and `RESTGracefulDeleteStrategy`: a create resets what a client may not set,
    a spec update keeps the status and a status update keeps the spec,
    `metadata.generation` moves on a change of desired state, and a delete may
    be refused, graceful, or leave the object behind its finalizers.
    """

    # Kinds with a status subresource keep spec and status apart on writes.
    has_status_subresource = True
    # DELETE with propagationPolicy=Orphan adds the `orphan` finalizer (pods own nothing).
    orphans_dependents = True
    # A DELETE that removes the object at once answers with it rather than a Success
    # Status (Kubernetes' `ReturnDeletedObject`, set for pods and services).
    returns_deleted_object = False
    # Whether metadata.generation counts changes of desired state. Kubernetes' strategies
    # for kinds that are only data (ConfigMap, Secret) never set it, so they show none.
    tracks_generation = True

    # -- create -----------------------------------------------------------------------

    def prepare_for_create(self, obj: Object) -> None:
        """Reset what a client may not set on create (Kubernetes clears status)."""
        if self.has_status_subresource:
            obj.pop("status", None)
        if self.tracks_generation:
            obj["metadata"]["generation"] = 1

    # -- update -----------------------------------------------------------------------

    def prepare_for_update(self, new: Object, old: Object) -> None:
        """A normal update: keep the stored status; bump generation on a spec change."""
        if self.has_status_subresource:
            if "status" in old:
                new["status"] = deep_copy(old["status"])
            else:
                new.pop("status", None)
        if not self.tracks_generation:
            new["metadata"].pop("generation", None)
            return
        generation = int(old["metadata"].get("generation") or 1)
        if _spec_part(new) != _spec_part(old):
            generation += 1
        new["metadata"]["generation"] = generation

    def prepare_for_status_update(self, new: Object, old: Object) -> Object:
        """A status update changes status only: everything else comes from the stored object."""
        merged = deep_copy(old)
        merged["metadata"]["resourceVersion"] = new.get("metadata", {}).get(
            "resourceVersion", "")
        if "status" in new:
            merged["status"] = new["status"]
        else:
            merged.pop("status", None)
        return merged

    def prepare_for_subresource_update(self, subresource: str, new: Object,
                                       old: Object) -> Object:
        """An update through another writable subresource (a CSR's `/approval`): what it
        may change. By default the same as a normal update."""
        self.prepare_for_update(new, old)
        return new

    # -- delete -----------------------------------------------------------------------

    def check_delete(self, name: str) -> None:
        """Raise to refuse deleting `name` at all (Kubernetes: protected namespaces)."""

    def grace_period_seconds(self, obj: Object, options: DeleteOptions) -> int:
        """How long a deleted object stays for its owner to stop it; 0 removes it now."""
        return 0

    def begin_delete(self, obj: Object) -> None:
        """Mark what deletion changes besides metadata (a Namespace's phase)."""

    def has_finalizers(self, obj: Object) -> bool:
        """Whether something still has to finish before the object may go."""
        return bool(obj["metadata"].get("finalizers"))


class Call:
    """One request to a subresource: what it addresses and the means to read and answer it."""

    def __init__(self, request: Request, info: RequestInfo, registry: Registry, kind: Kind,
                 max_request_bytes: int) -> None:
        self.request, self.info, self.registry, self.kind = request, info, registry, kind
        self.max_request_bytes = max_request_bytes

    @property
    def resource(self) -> ResourceInfo:
        return self.info.resource

    @property
    def namespace(self) -> str | None:
        return self.info.namespace

    @property
    def name(self) -> str:
        return self.info.name or ""

    @property
    def content_type(self) -> str:
        return self.request.headers.get("content-type", "")

    async def body(self) -> bytes:
        return await read_body(self.request, self.max_request_bytes)

    async def object(self) -> Object:
        """The request body decoded (JSON or YAML), 400 when it is not an object."""
        return decode_object(await self.body(), self.content_type or "application/json")


@dataclass(frozen=True)
class Upgrade:
    """A WebSocket request to a subresource: what it addresses, the registry, and what to
    call once the upgrade is accepted (the audit's ResponseStarted)."""

    info: RequestInfo
    registry: Registry
    accepted: Callable[[], None] = lambda: None


class Subresource:
    """A REST subresource a kind owns (`pods/binding`, `deployments/scale`).

    Each verb is a method; the ones a subresource does not serve answer 405.
    `group`/`version`/`kind` name the object it takes and returns when that is
    not the parent's (discovery shows them: `deployments/scale` is an
    `autoscaling/v1 Scale`, and kubectl looks for exactly that).
    """

    name: ClassVar[str]
    verbs: ClassVar[tuple[str, ...]]
    group: ClassVar[str | None] = None
    version: ClassVar[str | None] = None
    kind: ClassVar[str | None] = None

    async def get(self, call: Call) -> Response:
        raise self._not_allowed(call, "GET")

    async def create(self, call: Call) -> Response:
        raise self._not_allowed(call, "POST")

    async def update(self, call: Call) -> Response:
        raise self._not_allowed(call, "PUT")

    async def patch(self, call: Call) -> Response:
        raise self._not_allowed(call, "PATCH")

    async def delete(self, call: Call) -> Response:
        raise self._not_allowed(call, "DELETE")

    async def connect(self, websocket: WebSocket, call: Upgrade) -> None:
        """A WebSocket upgrade of the subresource (exec): authorized already; accept and
        serve it, or raise before accepting (the caller gets the Status over HTTP)."""
        raise errors.MethodNotAllowed(f"a WebSocket upgrade is not supported on "
                                      f"{call.info.resource.plural}/{self.name}")

    async def close(self) -> None:
        """Release what the subresource holds (connections) when the apiserver stops."""

    def _not_allowed(self, call: Call, method: str) -> errors.MethodNotAllowed:
        return errors.MethodNotAllowed(
            f"{method} is not supported on {call.resource.plural}/{self.name}")


class ObjectSubresource(Subresource):
    """A subresource that reads the whole object and writes it under the rules the kind's
    strategy keeps for this subresource's name (`/status`, a CSR's `/approval`): the
    registry decides what such a write may change, so only the name differs."""

    verbs = ("get", "patch", "update")

    async def get(self, call: Call) -> Response:
        return respond(call.request, await call.registry.get(call.resource, call.namespace,
                                                            call.name))

    async def update(self, call: Call) -> Response:
        fields = FieldValidation(call.request, call.resource, call.kind.model)
        raw = await call.body()
        body = decode_object(raw, call.content_type or "application/json")
        fields.check_body(raw, call.content_type, body)
        check_kind(call.resource.api_version, call.resource.kind, body)
        fields.check(body)
        return fields.warn(respond(call.request, await call.registry.update(
            call.resource, call.namespace, call.name, body, subresource=self.name)))

    async def patch(self, call: Call) -> Response:
        fields = FieldValidation(call.request, call.resource, call.kind.model)
        body, content_type = await call.body(), call.content_type
        fields.check_body(body, content_type)
        kind = call.resource.kind
        return fields.warn(respond(call.request, await call.registry.update_with(
            call.resource, call.namespace, call.name,
            fields.wrap(lambda current: apply_patch(content_type, current, body, kind)),
            subresource=self.name)))


class StatusSubresource(ObjectSubresource):
    """`{resource}/status`: read the object, or write its status and nothing else."""

    name = "status"


STATUS = StatusSubresource()


@dataclass(frozen=True)
class Kind:
    """Everything the apiserver knows about one kind, declared by the kind's module.

    `resource` is declared without subresources: they are the names of
    `subresources`, filled in here so discovery, request parsing and handlers
    can never disagree.
    """

    resource: ResourceInfo
    model: type[TypedObject]
    strategy: Strategy = field(default_factory=Strategy)
    default: Defaulter | None = None
    validate: Validator | None = None
    # Rule for metadata.name beyond the default DNS-1123 subdomain (None: the default).
    name_rule: NameRule | None = None
    # kubectl get's columns; None: Name and Age.
    table: Layout | None = None
    subresources: Sequence[Subresource] = ()
    allocator: AllocatorFactory | None = None
    bootstrap: Bootstrap | None = None
    # Started after start-up, stopped before shutdown (None from the factory: nothing).
    background: BackgroundFactory | None = None
    admission: Admission | None = None
    ttl: TTL | None = None
    compute: Compute | None = None

    def __post_init__(self) -> None:
        names = tuple(s.name for s in self.subresources)
        if len(set(names)) != len(names):
            raise ValueError(f"{self.resource.kind}: subresource declared twice: {names}")
        object.__setattr__(self, "resource", dataclasses.replace(self.resource,
                                                                 subresources=names))

    def subresource(self, name: str) -> Subresource | None:
        return next((s for s in self.subresources if s.name == name), None)

    def defaulted(self, obj: Object) -> None:
        if self.default is not None:
            self.default(obj)

    def invalid(self, obj: Object, problems: Errs) -> errors.Invalid:
        meta = obj.get("metadata") or {}
        return errors.Invalid(self.resource.kind, str(meta.get("name") or ""), problems,
                              group=self.resource.group)


def reject(resource: ResourceInfo, name: str, path: str, message: str,
           value: Any = None) -> errors.Invalid:
    """A one-field Invalid error, for checks the registry makes itself."""
    return errors.Invalid(resource.kind, name, [FieldError(path, message, value)],
                          group=resource.group)
