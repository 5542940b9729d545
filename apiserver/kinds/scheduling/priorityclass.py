"""PriorityClass (scheduling.k8s.io/v1): a named priority that pods ask for by name.

As in Kubernetes: a pod names a class in `spec.priorityClassName` and the
apiserver's Priority admission resolves it into `spec.priority` when the pod
is created (a pod naming no class gets the global default class, or 0); a pod
naming a class that does not exist, or carrying a priority of its own that
disagrees, is refused. At most one class is the global default. The two system
classes exist from the start and cannot be deleted; other names starting with
`system-` are reserved, and a user's class is at most 1,000,000,000. A class's
value and preemption policy never change.

What Schooner does with a pod's priority: the apiserver resolves and checks
it as above, and the scheduler takes higher-priority pods first (Kubernetes'
PrioritySort). It never preempts, so `preemptionPolicy` is kept for clients
and has no effect.
"""

from __future__ import annotations

import asyncio
import math
import time
import weakref
from collections.abc import Callable, Mapping
from contextlib import suppress
from datetime import datetime
from typing import Annotated, Any, ClassVar

from apimachinery import errors
from apimachinery.meta import Object, name_of
from apimachinery.models import TypedObject
from apimachinery.models.meta import ApiVersion
from apimachinery.models.meta import Kind as KindName
from apimachinery.models.schema import ProtobufHint, field
from apimachinery.printers import Layout, age
from apimachinery.resources import ResourceInfo
from apiserver.config import ServerConfig
from apiserver.defaulting import Obj, set_default
from apiserver.kind import Kind, Strategy
from apiserver.registry import Registry
from apiserver.validation.fields import (
    Errs,
    forbidden,
    invalid,
    is_int,
    not_supported,
    required,
)

RESOURCE = ResourceInfo("scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", False,
                        ("pc",))

SYSTEM_PREFIX = "system-"
HIGHEST_USER_DEFINABLE_PRIORITY = 1_000_000_000
SYSTEM_CRITICAL_PRIORITY = 2 * HIGHEST_USER_DEFINABLE_PRIORITY
# Kubernetes' two system classes: (name, value, description).
SYSTEM_CLASSES = (
    ("system-node-critical", SYSTEM_CRITICAL_PRIORITY + 1000,
     "Used for system critical pods that must not be moved from their current node."),
    ("system-cluster-critical", SYSTEM_CRITICAL_PRIORITY,
     "Used for system critical pods that must run in the cluster, but can be moved to "
     "another node if necessary."),
)
PREEMPTION_POLICIES = ("Never", "PreemptLowerPriority")
_INT32 = (-(2**31), 2**31 - 1)


class PriorityClass(TypedObject):
    """A named priority for pods; pods name it in `spec.priorityClassName`."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {
        "value": "zero", "preemptionPolicy": "pointer"}

    api_version: ApiVersion = "scheduling.k8s.io/v1"
    kind: KindName = "PriorityClass"
    value: Annotated[int | None, field(
        "The priority pods of this class get in spec.priority: higher is scheduled first. "
        "At most 1,000,000,000 for a class a user makes; never changes.", protobuf=2)] = None
    global_default: Annotated[bool | None, field(
        "This class's value is the priority of pods that name no class. At most one class "
        "may be the global default.", protobuf=3)] = None
    description: Annotated[str | None, field(
        "Free text for people: when to use this class.", protobuf=4)] = None
    preemption_policy: Annotated[str | None, field(
        "PreemptLowerPriority (the default) or Never. Kept for clients: Schooner's scheduler "
        "does not preempt, so it has no effect.", protobuf=5)] = None


class PriorityClassStrategy(Strategy):
    """The whole object is one unit; the system classes stay."""

    has_status_subresource = False

    def check_delete(self, name: str) -> None:
        if any(name == system for system, _, _ in SYSTEM_CLASSES):
            raise errors.Forbidden(f'priorityclasses.scheduling.k8s.io "{name}" is forbidden: '
                                   "this is a system priority class and cannot be deleted")


def default_priority_class(obj: Obj) -> None:
    """SetDefaults_PriorityClass: preemptionPolicy PreemptLowerPriority."""
    set_default(obj, "preemptionPolicy", "PreemptLowerPriority")


def validate_priority_class(obj: Object, old: Object | None) -> Errs:
    """ValidatePriorityClass(Update): reserved names, the user range, immutable fields."""
    errs: Errs = []
    name, value = name_of(obj), obj.get("value")
    if value is None:
        errs.append(required("value"))
    elif is_int(value) and not _INT32[0] <= value <= _INT32[1]:
        errs.append(invalid("value", value, "must be a 32-bit integer"))
    if name.startswith(SYSTEM_PREFIX):
        if (name, value, bool(obj.get("globalDefault"))) not in {
                (system, system_value, False) for system, system_value, _ in SYSTEM_CLASSES}:
            errs.append(forbidden("metadata.name", f"priority class names with '{SYSTEM_PREFIX}' "
                                  "prefix are reserved for system use only"))
    elif is_int(value) and value > HIGHEST_USER_DEFINABLE_PRIORITY:
        errs.append(forbidden("value", "maximum allowed value of a user defined priority is "
                                       f"{HIGHEST_USER_DEFINABLE_PRIORITY}"))
    policy = obj.get("preemptionPolicy")
    if isinstance(policy, str) and policy not in PREEMPTION_POLICIES:
        errs.append(not_supported("preemptionPolicy", policy, PREEMPTION_POLICIES))
    if old is not None:
        if value != old.get("value"):
            errs.append(forbidden("value", "may not be changed in an update."))
        if policy != old.get("preemptionPolicy"):
            errs.append(invalid("preemptionPolicy", policy, "field is immutable"))
    return errs


async def create_system_priority_classes(registry: Registry, config: ServerConfig) -> None:
    """The two system classes, as Kubernetes' apiserver makes them at start."""
    for name, value, description in SYSTEM_CLASSES:
        with suppress(errors.NotFound):
            await registry.get(RESOURCE, None, name)
            continue
        with suppress(errors.AlreadyExists):
            await registry.create(RESOURCE, None, {
                "metadata": {"name": name}, "value": value, "description": description})


async def admit_priority(registry: Registry, resource: ResourceInfo, namespace: str | None,
                         obj: Object, old: Object | None) -> None:
    """Kubernetes' Priority admission: one global default; a new pod's priority resolved."""
    if resource == RESOURCE and obj.get("globalDefault") is True:
        await _only_one_default(registry, name_of(obj))
    elif resource.group == "" and resource.plural == "pods" and old is None:
        await _resolve_pod_priority(registry, obj)


async def _classes(registry: Registry) -> list[Object]:
    return (await registry.list(RESOURCE, None)).items


class ClassCache:
    """The classes as pod admission reads them: listed at most once a `ttl`.

    Every pod create asks for the global default; reading etcd for it each time
    cost a round trip per create (measured: creates 15% slower). Kubernetes'
    plugin reads an informer's lister, which lags the store as this does; a
    name the cache lacks is read live, so a class created just before its first
    pod is always found. Concurrent creates share one refresh.
    """

    def __init__(self, ttl: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl, self.clock = ttl, clock
        self._classes: dict[str, Object] = {}
        self._read_at = -math.inf
        self._refresh: asyncio.Future[None] | None = None

    async def all(self, registry: Registry) -> list[Object]:
        if self.clock() - self._read_at >= self.ttl:
            if self._refresh is None:
                self._refresh = asyncio.ensure_future(self._read(registry))
            refresh = self._refresh
            try:
                await asyncio.shield(refresh)
            finally:
                if refresh.done() and self._refresh is refresh:
                    self._refresh = None
        return list(self._classes.values())

    async def get(self, registry: Registry, name: str) -> Object:
        """The class `name`; NotFound when neither the cache nor etcd has it."""
        await self.all(registry)
        cached = self._classes.get(name)
        return cached if cached is not None else await registry.get(RESOURCE, None, name)

    async def _read(self, registry: Registry) -> None:
        started = self.clock()
        self._classes = {name_of(c): c for c in await _classes(registry)}
        self._read_at = started


_CACHES: weakref.WeakKeyDictionary[Registry, ClassCache] = weakref.WeakKeyDictionary()


def _cache(registry: Registry) -> ClassCache:
    cache = _CACHES.get(registry)
    if cache is None:
        cache = _CACHES[registry] = ClassCache()
    return cache


async def _only_one_default(registry: Registry, name: str) -> None:
    for other in await _classes(registry):
        if other.get("globalDefault") is True and name_of(other) != name:
            raise errors.Forbidden(
                f'priorityclasses.scheduling.k8s.io "{name}" is forbidden: PriorityClass '
                f"{name_of(other)} is already marked as default. Only one default can exist")


async def _resolve_pod_priority(registry: Registry, pod: Object) -> None:
    spec = pod.get("spec")
    if not isinstance(spec, dict):
        return  # validation has already refused it
    wanted = spec.get("priorityClassName")
    pod_name = name_of(pod)
    cache = _cache(registry)
    if wanted:
        try:
            chosen: Object | None = await cache.get(registry, str(wanted))
        except errors.NotFound:
            raise errors.Forbidden(f'pods "{pod_name}" is forbidden: no PriorityClass with name '
                                   f"{wanted} was found") from None
    else:
        defaults = [c for c in await cache.all(registry) if c.get("globalDefault") is True]
        chosen = min(defaults, key=lambda c: int(c.get("value") or 0), default=None)
    priority = int(chosen.get("value") or 0) if chosen is not None else 0
    given = spec.get("priority")
    if given is not None and given != priority:
        raise errors.Forbidden(
            f'pods "{pod_name}" is forbidden: the integer value of priority ({given}) must not be '
            f"provided in pod spec; priority admission controller computed {priority} from the "
            "given PriorityClass name")
    if chosen is not None:
        spec["priorityClassName"] = name_of(chosen)
    spec["priority"] = priority


def _row(obj: Object, now: datetime) -> list[Any]:
    return [name_of(obj), obj.get("value"), bool(obj.get("globalDefault")), age(obj, now),
            obj.get("preemptionPolicy") or ""]


KIND = Kind(
    resource=RESOURCE,
    model=PriorityClass,
    strategy=PriorityClassStrategy(),
    default=default_priority_class,
    validate=validate_priority_class,
    table=Layout("Name,#Value,Global-Default,Age,PreemptionPolicy", _row),
    bootstrap=create_system_priority_classes,
    admission=admit_priority,
)
