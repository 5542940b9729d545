"""The watch cache's pump outlives gRPC's cancel of a call whose channel was closed.

When one request finds etcd's member not answering, the apiserver retires that
member's client and closes its channel; gRPC then raises asyncio.CancelledError in
every call on it, the watch cache's etcd watch too, though nobody cancelled the pump.
Taken as the pump's own cancel, it ended the cache for good: watchers stayed open and
never saw another event (seen in the etcd restart chaos test).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from apiserver.etcdcodec import RawEvent
from apiserver.watchcache import WatchCache


class ClosingStorage:
    """A storage whose first watch is cancelled under it, as a closed channel's is."""

    def __init__(self) -> None:
        self.watches = 0

    async def current_revision(self) -> int:
        return 5

    async def watch(self, prefix: str, start_revision: int) -> AsyncIterator[RawEvent]:
        self.watches += 1
        if self.watches == 1:
            raise asyncio.CancelledError()
        yield RawEvent("ADDED", f"{prefix}a", start_revision, {"metadata": {"name": "a"}},
                       None)
        await asyncio.sleep(3600)


def test_a_watch_cancelled_under_the_pump_is_opened_again() -> None:
    async def scenario() -> tuple[int, int]:
        storage: Any = ClosingStorage()
        cache = WatchCache(storage, "/registry/configmaps/", "configmaps")
        await cache.start()
        for _ in range(100):
            if cache.revision == 6:
                break
            await asyncio.sleep(0.05)
        await cache.stop()  # the pump's own cancel still ends it
        return cache.revision, storage.watches
    assert asyncio.run(scenario()) == (6, 2)


def test_stop_still_ends_the_pump() -> None:
    async def scenario() -> None:
        cache = WatchCache(ClosingStorage(), "/registry/x/", "x")  # type: ignore[arg-type]
        await cache.start()
        await cache.stop()
        assert cache._task is not None and cache._task.cancelled()
    asyncio.run(scenario())
