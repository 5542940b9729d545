"""A fake API client for controller unit tests (sample-controller's fake clientset style).

`FakeClient` serves informers their initial lists from seeded objects (the
watch then idles like a quiet server), and records every write in `actions`
as a tuple, in order, so a test asserts exactly what a reconcile did. Writes
never reach the informers: as with client-go's fakes, a test feeds the cache
what it wants the controller to see. Failures are injected per (verb,
resource); any method a controller should not call simply does not exist.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from apimachinery import errors, meta
from apimachinery.client import WatchEvent
from apimachinery.clock import FakeClock
from apimachinery.meta import Object
from apimachinery.resources import ResourceInfo, resolve
from controllers.base import Controller, SharedInformerFactory

C = TypeVar("C", bound=Controller)


def _plural(resource: ResourceInfo | str) -> str:
    return resource.plural if isinstance(resource, ResourceInfo) else resolve(resource).plural


def obj(kind_plural: str, name: str, ns: str = "ns", **fields: Any) -> Object:
    """A stored-looking object: uid, resourceVersion, creationTimestamp filled in."""
    info = resolve(kind_plural)
    md: Object = {"name": name, "uid": f"uid-{name}", "resourceVersion": "1",
                  "creationTimestamp": "2024-01-01T00:00:00Z", "generation": 1}
    if info.namespaced:
        md["namespace"] = ns
    md.update(fields.pop("metadata", {}))
    return {"apiVersion": info.api_version, "kind": info.kind, "metadata": md, **fields}


class FakeClient:
    """Answers lists from seeded objects and records writes as action tuples."""

    def __init__(self, objects: list[Object] | None = None) -> None:
        self.objects: dict[tuple[str, str], Object] = {}
        for o in objects or []:
            self.objects[(resolve(o["kind"]).plural, meta.key_of(o))] = copy.deepcopy(o)
        self.actions: list[tuple[Any, ...]] = []
        self.failures: dict[tuple[str, str], list[Exception]] = {}
        self._names = itertools.count(1)
        self._rv = itertools.count(100)

    def fail(self, verb: str, resource: str, *excs: Exception) -> None:
        """The next calls of `verb` on `resource` raise these, in order."""
        self.failures.setdefault((verb, resource), []).extend(excs)

    def _maybe_fail(self, verb: str, plural: str) -> None:
        queued = self.failures.get((verb, plural))
        if queued:
            raise queued.pop(0)

    def writes(self, verb: str | None = None) -> list[tuple[Any, ...]]:
        return [a for a in self.actions if verb is None or a[0] == verb]

    # -- reads -------------------------------------------------------------------------------

    async def list_all(self, resource: ResourceInfo, namespace: str | None = None, *,
                       label_selector: str | None = None,
                       field_selector: str | None = None) -> tuple[list[Object], str]:
        plural = _plural(resource)
        items = [copy.deepcopy(o) for (p, _), o in self.objects.items() if p == plural
                 and (not namespace or meta.namespace_of(o) == namespace)]
        return items, "1"

    async def watch(self, resource: ResourceInfo, namespace: str | None = None, *,
                    resource_version: str | None = None, label_selector: str | None = None,
                    field_selector: str | None = None, allow_bookmarks: bool = False,
                    timeout_seconds: int | None = None) -> AsyncGenerator[WatchEvent, None]:
        await asyncio.Event().wait()  # a quiet server, until the informer stops
        yield WatchEvent("BOOKMARK", {})  # pragma: no cover - never reached

    async def get(self, resource: ResourceInfo | str, name: str, namespace: str | None = None,
                  *, subresource: str | None = None) -> Object:
        plural = _plural(resource)
        self._maybe_fail("get", plural)
        key = f"{namespace}/{name}" if namespace else name
        found = self.objects.get((plural, key))
        if found is None:
            raise errors.not_found(plural, name)
        return copy.deepcopy(found)

    # -- writes ------------------------------------------------------------------------------

    def _store(self, plural: str, o: Object) -> Object:
        o["metadata"]["resourceVersion"] = str(next(self._rv))
        self.objects[(plural, meta.key_of(o))] = copy.deepcopy(o)
        return o

    async def create(self, resource: ResourceInfo | str, o: Object,
                     namespace: str | None = None) -> Object:
        plural = _plural(resource)
        o = copy.deepcopy(o)
        md = o.setdefault("metadata", {})
        if not md.get("name"):
            md["name"] = f"{md.get('generateName', '')}{next(self._names)}"
        if namespace:
            md["namespace"] = namespace
        self.actions.append(("create", plural, md["name"], o))
        self._maybe_fail("create", plural)
        md.setdefault("uid", f"uid-{md['name']}")
        md.setdefault("creationTimestamp", "2024-01-01T00:00:01Z")
        return self._store(plural, o)

    async def update(self, resource: ResourceInfo | str, o: Object, *,
                     subresource: str | None = None) -> Object:
        plural = _plural(resource)
        verb = f"update/{subresource}" if subresource else "update"
        self.actions.append((verb, plural, meta.name_of(o), copy.deepcopy(o)))
        self._maybe_fail(verb, plural)
        return self._store(plural, copy.deepcopy(o))

    async def update_status(self, resource: ResourceInfo | str, o: Object) -> Object:
        plural = _plural(resource)
        self.actions.append(("update_status", plural, meta.name_of(o),
                             copy.deepcopy(o.get("status"))))
        self._maybe_fail("update_status", plural)
        return self._store(plural, copy.deepcopy(o))

    async def patch(self, resource: ResourceInfo | str, name: str, patch: Any,
                    namespace: str | None = None, *, patch_type: str = "merge",
                    subresource: str | None = None, field_manager: str | None = None) -> Object:
        plural = _plural(resource)
        self.actions.append(("patch", plural, name, copy.deepcopy(patch)))
        self._maybe_fail("patch", plural)
        key = f"{namespace}/{name}" if namespace else name
        current = copy.deepcopy(self.objects.get((plural, key)) or {"metadata": {"name": name}})
        for section, values in patch.items():
            target = current.setdefault(section, {})
            for k, v in values.items():
                if isinstance(v, dict) and isinstance(target.get(k), dict):
                    target[k] = {**target[k], **v}
                elif v is None:
                    target.pop(k, None)
                else:
                    target[k] = v
        return self._store(plural, current)

    async def delete(self, resource: ResourceInfo | str, name: str,
                     namespace: str | None = None, *, propagation_policy: str | None = None,
                     grace_period_seconds: int | None = None,
                     preconditions: dict[str, str] | None = None) -> Object:
        plural = _plural(resource)
        self.actions.append(("delete", plural, name, propagation_policy, preconditions))
        self._maybe_fail("delete", plural)
        key = f"{namespace}/{name}" if namespace else name
        return self.objects.pop((plural, key), {})

    async def delete_collection(self, resource: ResourceInfo | str,
                                namespace: str | None = None, *,
                                label_selector: str | None = None,
                                field_selector: str | None = None) -> Object:
        plural = _plural(resource)
        self.actions.append(("delete_collection", plural, namespace))
        self._maybe_fail("delete_collection", plural)
        return {"items": []}


@asynccontextmanager
async def started(client: FakeClient, build: Callable[[FakeClient, SharedInformerFactory,
                                                         FakeClock], C]
                  ) -> AsyncGenerator[tuple[C, FakeClock], None]:
    """Build a controller on a fake client, start and sync its informers, stop them after."""
    clock = FakeClock()
    factory = SharedInformerFactory(client, clock=clock)
    controller = build(client, factory, clock)
    factory.start()
    try:
        await factory.wait_for_cache_sync(2.0)
        yield controller, clock
    finally:
        controller.shut_down()
        await factory.shutdown()


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    """Run a scenario on a fresh loop and fail if it leaves any task behind."""
    async def main() -> None:
        await scenario()
        leaked = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        assert leaked == [], f"leaked tasks: {leaked}"
    asyncio.run(main())


class ListRecorder:
    """Records events as (kind, name, reason, message, warning) tuples, in order."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, str, str, bool]] = []

    def record(self, obj: Object, reason: str, message: str, *, container: str | None = None,
               warning: bool = False) -> None:
        self.events.append((obj.get("kind", ""), meta.name_of(obj), reason, message, warning))
