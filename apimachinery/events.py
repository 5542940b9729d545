"""Events about objects (Scheduled, Pulling, Started, BackOff, ...) from any component.

client-go's EventRecorder, reduced: `record()` never
blocks and never fails the caller; events go through a bounded queue to one
sender task. Repeats of the same (object, fieldPath, reason, message) are
folded into the first Event by bumping `count` and `lastTimestamp`, as the
event correlator does, so a crash loop is one Event with a growing count, not
a flood. Event names are `<pod>.<hex nanoseconds>`, as client-go makes them.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from apimachinery import errors
from apimachinery.client import AsyncClient
from apimachinery.clock import Clock
from apimachinery.meta import Object

log = logging.getLogger(__name__)
QUEUE_SIZE = 1000
CACHE_SIZE = 4096


@dataclass(frozen=True)
class _Pending:
    key: tuple[str, str, str, str]
    event: Object


def _timestamp(clock: Clock) -> str:
    return clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")


class EventRecorder:
    """Best-effort core/v1 Events from one component (`kubelet` on a node, the scheduler)."""

    def __init__(self, client: AsyncClient, component: str, clock: Clock, *,
                 host: str = "") -> None:
        self._client = client
        self._component = component
        self._host = host
        self._clock = clock
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue(QUEUE_SIZE)
        self._seen: dict[tuple[str, str, str, str], tuple[str, str, int]] = {}

    def record(self, obj: Object, reason: str, message: str, *, container: str | None = None,
               warning: bool = False) -> None:
        """Queue an event about `obj` (a pod: and one of its containers); never blocks.

        Dropped, with a log line, if the queue is full.
        """
        meta = obj.get("metadata") or {}
        field_path = f"spec.containers{{{container}}}" if container else ""
        now = self._clock.now()
        involved: Object = {"kind": obj.get("kind", "Pod"),
                            "apiVersion": obj.get("apiVersion", "v1"), "name": meta.get("name"),
                            "namespace": meta.get("namespace"), "uid": meta.get("uid")}
        if field_path:
            involved["fieldPath"] = field_path
        name = f"{meta.get('name')}.{int(now.timestamp() * 1e9):x}"
        stamp = _timestamp(self._clock)
        event: Object = {
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": name, "namespace": meta.get("namespace")},
            "involvedObject": involved, "reason": reason, "message": message,
            "type": "Warning" if warning else "Normal", "count": 1,
            "firstTimestamp": stamp, "lastTimestamp": stamp,
            "source": {"component": self._component, **({"host": self._host}
                                                          if self._host else {})},
            "reportingComponent": self._component,
            "reportingInstance": self._host or self._component,
        }
        key = (str(meta.get("uid")), field_path, reason, message)
        try:
            self._queue.put_nowait(_Pending(key, event))
        except asyncio.QueueFull:
            log.warning("event dropped (queue full) object=%s/%s reason=%s",
                        meta.get("namespace"), meta.get("name"), reason)
        log.log(logging.INFO if warning else logging.DEBUG,
                "event object=%s/%s container=%s reason=%s message=%r", meta.get("namespace"),
                meta.get("name"), container or "", reason, message)

    async def run(self) -> None:
        """Send queued events until cancelled."""
        while True:
            pending = await self._queue.get()
            try:
                await self._send(pending)
            except errors.APIError as exc:
                log.debug("event not recorded reason=%s error=%s",
                          pending.event["reason"], exc.message)
            except Exception:
                log.exception("event not recorded reason=%s", pending.event["reason"])

    async def _send(self, pending: _Pending) -> None:
        seen = self._seen.get(pending.key)
        event = pending.event
        if seen is not None:
            name, namespace, count = seen
            try:
                await self._client.patch("events", name, {
                    "count": count + 1, "lastTimestamp": event["lastTimestamp"]}, namespace)
                self._seen[pending.key] = (name, namespace, count + 1)
                return
            except errors.NotFound:
                pass  # expired or deleted: create it afresh
        created = await self._client.create("events", event)
        meta = created.get("metadata") or {}
        if len(self._seen) >= CACHE_SIZE:
            self._seen.pop(next(iter(self._seen)))
        self._seen[pending.key] = (meta.get("name", ""), meta.get("namespace", ""), 1)

    def forget(self, uid: str) -> None:
        """Drop what is remembered about an object that is gone."""
        for key in [k for k in self._seen if k[0] == uid]:
            del self._seen[key]
