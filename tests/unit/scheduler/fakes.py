"""An in-memory API for the scheduler loop: list, watch, bind, status patch; records actions.

sample-controller style: every write the scheduler makes is appended to
`actions`, so tests assert what was done and in which order. Watches replay
the event log from the resourceVersion asked for, so nothing is lost between
an informer's list and its watch. With `reflect_bindings=False` the effect of
a binding is applied to the stored pod but its watch event is held back until
`release()`: a watch that lags, which is what the assume cache is for.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
from collections.abc import AsyncGenerator, Iterable
from typing import Any

from apimachinery import errors, meta
from apimachinery.client import WatchEvent
from apimachinery.meta import Object
from apimachinery.resources import ResourceInfo


class FakeCluster:
    def __init__(self, nodes: Iterable[Object] = (), pods: Iterable[Object] = (), *,
                 reflect_bindings: bool = True) -> None:
        self.objects: dict[str, dict[str, Object]] = {"nodes": {}, "pods": {}}
        self._rv = itertools.count(100)
        self._log: list[tuple[int, str, WatchEvent]] = []
        self._watchers: list[tuple[str, asyncio.Queue[WatchEvent]]] = []
        self.reflect_bindings = reflect_bindings
        self.held: list[tuple[str, WatchEvent]] = []
        self.actions: list[tuple[Any, ...]] = []
        self.bind_errors: dict[str, errors.APIError] = {}
        self.bind_gate: asyncio.Event | None = None  # when set, binds wait for it
        for obj in nodes:
            self._store("nodes", obj)
        for obj in pods:
            self._store("pods", obj)

    # -- what the scheduler calls ------------------------------------------------------

    async def list_all(self, resource: ResourceInfo, namespace: str | None = None, *,
                       label_selector: str | None = None,
                       field_selector: str | None = None) -> tuple[list[Object], str]:
        items = copy.deepcopy(list(self.objects[resource.plural].values()))
        return items, str(self._last_rv())

    async def watch(self, resource: ResourceInfo, namespace: str | None = None, *,
                    resource_version: str | None = None, label_selector: str | None = None,
                    field_selector: str | None = None, allow_bookmarks: bool = False,
                    timeout_seconds: int | None = None) -> AsyncGenerator[WatchEvent, None]:
        queue: asyncio.Queue[WatchEvent] = asyncio.Queue()
        since = int(resource_version or 0)
        for rv, plural, event in self._log:
            if plural == resource.plural and rv > since:
                queue.put_nowait(event)
        entry = (resource.plural, queue)
        self._watchers.append(entry)
        try:
            while True:
                yield await queue.get()
        finally:
            self._watchers.remove(entry)

    async def bind(self, name: str, node_name: str, namespace: str) -> None:
        key = f"{namespace}/{name}"
        self.actions.append(("bind", key, node_name))
        if self.bind_gate is not None:
            await self.bind_gate.wait()
        if key in self.bind_errors:
            raise self.bind_errors[key]
        pod = self.objects["pods"].get(key)
        if pod is None:
            raise errors.not_found("pods", name)
        if pod["spec"].get("nodeName"):
            raise errors.conflict("pods/binding", name, "already assigned")
        bound = copy.deepcopy(pod)
        bound["spec"]["nodeName"] = node_name
        self._write("pods", bound, hold=not self.reflect_bindings)

    async def patch(self, resource: Any, name: str, patch: Any, namespace: str | None = None,
                    *, patch_type: str = "merge", subresource: str | None = None,
                    field_manager: str | None = None) -> Object:
        key = f"{namespace}/{name}"
        self.actions.append(("patch", key, subresource, patch_type, copy.deepcopy(patch)))
        pod = copy.deepcopy(self.objects["pods"][key])
        conditions = {c["type"]: c for c in pod.setdefault("status", {}).get("conditions", [])}
        for condition in patch["status"]["conditions"]:
            conditions[condition["type"]] = {**conditions.get(condition["type"], {}),
                                             **condition}
        pod["status"]["conditions"] = list(conditions.values())
        return self._write("pods", pod)

    # -- what tests do -----------------------------------------------------------------

    def add(self, plural: str, obj: Object) -> None:
        self._write(plural, copy.deepcopy(obj))

    def update(self, plural: str, obj: Object) -> None:
        self._write(plural, copy.deepcopy(obj))

    def delete(self, plural: str, key: str) -> None:
        obj = self.objects[plural].pop(key)
        obj = {**obj, "metadata": {**obj["metadata"], "resourceVersion": str(next(self._rv))}}
        self._emit(plural, WatchEvent("DELETED", obj))

    def release(self) -> None:
        """Deliver the held binding events: the watch catches up."""
        held, self.held = self.held, []
        for plural, event in held:
            self._emit(plural, event)

    def pod(self, key: str) -> Object:
        return self.objects["pods"][key]

    def binds(self) -> list[tuple[str, str]]:
        return [(a[1], a[2]) for a in self.actions if a[0] == "bind"]

    # -- internals ---------------------------------------------------------------------

    def _last_rv(self) -> int:
        return self._log[-1][0] if self._log else 99

    def _store(self, plural: str, obj: Object) -> Object:
        obj = copy.deepcopy(obj)
        obj["metadata"]["resourceVersion"] = str(next(self._rv))
        self.objects[plural][meta.key_of(obj)] = obj
        return obj

    def _write(self, plural: str, obj: Object, *, hold: bool = False) -> Object:
        existed = meta.key_of(obj) in self.objects[plural]
        stored = self._store(plural, obj)
        event = WatchEvent("MODIFIED" if existed else "ADDED", copy.deepcopy(stored))
        if hold:
            self.held.append((plural, event))
        else:
            self._emit(plural, event)
        return copy.deepcopy(stored)

    def _emit(self, plural: str, event: WatchEvent) -> None:
        rv = int(meta.resource_version_of(event.object))
        self._log.append((rv, plural, event))
        for watched, queue in self._watchers:
            if watched == plural:
                queue.put_nowait(event)
