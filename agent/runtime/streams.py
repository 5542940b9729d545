"""Long-lived Docker streams (logs, events), each read on a thread of its own.

A followed log or the engine's event stream can block for hours, so they do
not take a slot of the runtime's thread pool: each gets a daemon thread that
hands what it reads to the event loop with `call_soon_threadsafe`. Closing
shuts the HTTP stream's socket down, which unblocks the thread. Used by
`agent.runtime.docker_runtime` only.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Callable
from typing import Any

log = logging.getLogger(__name__)

_END = object()


class LogStream:
    """An async iterator of log chunks (bytes) read from Docker on a thread."""

    def __init__(self, open_stream: Callable[[], Any]) -> None:
        self._open = open_stream
        self._stream: Any = None
        self._closed = threading.Event()
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._loop = asyncio.get_running_loop()
        self._thread = threading.Thread(target=self._pump, name="docker-logs", daemon=True)
        self._thread.start()

    def _put(self, item: Any) -> None:
        try:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, item)
        except RuntimeError:  # the loop is closed: nobody is reading any more
            self._closed.set()

    def _pump(self) -> None:
        try:
            self._stream = self._open()
            if self._closed.is_set():
                self._stream.close()
                return
            for chunk in self._stream:
                if self._closed.is_set():
                    break
                self._put(chunk)
        except Exception as exc:  # a closed socket, a vanished container, a dead engine
            if not self._closed.is_set():
                self._put(exc)
        finally:
            self._put(_END)

    async def chunks(self) -> AsyncIterator[bytes]:
        """Chunks until the stream ends; a read error ends it with the exception raised."""
        while True:
            item = await self._queue.get()
            if item is _END:
                return
            if isinstance(item, Exception):
                raise item
            yield item

    def close(self) -> None:
        """Stop reading (idempotent); a reader blocked in Docker wakes up."""
        if self._closed.is_set():
            return
        self._closed.set()
        stream = self._stream
        if stream is not None:
            try:
                stream.close()
            except Exception:  # already closed by the engine
                log.debug("component=agent closing a log stream failed", exc_info=True)


class EventWatcher:
    """Follows the engine's container events and reports `(pod uid, action)` on the loop.

    The PLEG's event half: `die` (with its exit code), `oom`, `start` and
    `destroy` wake the pod's worker at once instead of at the next relist.
    A broken stream (the engine restarted) is reopened after a second.
    """

    def __init__(self, open_stream: Callable[[], Any], on_event: Callable[[str, str], None],
                 uid_label: str) -> None:
        self._open = open_stream
        self._on_event = on_event
        self._uid_label = uid_label
        self._loop = asyncio.get_running_loop()
        self._stopped = threading.Event()
        self._stream: Any = None
        self._thread = threading.Thread(target=self._run, name="docker-events", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stopped.is_set():
            try:
                self._stream = self._open()
                for event in self._stream:
                    if self._stopped.is_set():
                        return
                    self._deliver(event)
            except Exception as exc:
                if not self._stopped.is_set():
                    log.warning("component=agent docker event stream broke error=%r; reopening",
                                exc)
            self._stopped.wait(1.0)

    def _deliver(self, event: dict[str, Any]) -> None:
        attributes = (event.get("Actor") or {}).get("Attributes") or {}
        uid = attributes.get(self._uid_label)
        action = str(event.get("Action") or event.get("status") or "")
        if uid:
            try:
                self._loop.call_soon_threadsafe(self._on_event, uid, action)
            except RuntimeError:  # loop closed
                self._stopped.set()

    def stop(self) -> None:
        self._stopped.set()
        stream = self._stream
        if stream is not None:
            try:
                stream.close()
            except Exception:
                log.debug("component=agent closing the event stream failed", exc_info=True)
