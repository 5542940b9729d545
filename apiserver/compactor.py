"""Compacting etcd on an interval, once across every apiserver (`--etcd-compaction-interval`).

etcd keeps every revision of every key until it is compacted, so a cluster that
only updates (Leases renewed every 10 s, status written by every controller)
grows without bound until etcd's space quota turns it read-only. Kubernetes'
apiserver compacts (`k8s.io/apiserver/pkg/storage/etcd3/compact.go`) and so
does this module, the same way:

- every `interval`, compact to the revision etcd was at one interval ago, so a
  client that listed or watched within the last interval can still resume
  (the watch cache's buffer answers most; older asks get 410 Gone);
- apiservers agree through one etcd key, `compact_rev_key`: each write of it
  bumps its etcd version, which serves as a logical clock. An apiserver writes
  it only if its version is still the one that apiserver saw last (a
  compare-and-swap); the one that wins compacts, the others learn the new
  version and wait a whole interval. So of several apiservers on one etcd, one
  compacts per interval, as etcd cannot compact one revision twice.

The first round of a new apiserver compacts nothing: it has not yet seen a
revision an interval old.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger("apiserver.compactor")

# Kubernetes' key (at the root of etcd's keyspace, outside every resource prefix).
COMPACT_REV_KEY = b"compact_rev_key"


@dataclass(frozen=True)
class Swap:
    """The answer of one compare-and-swap on `compact_rev_key`."""

    succeeded: bool
    # The key's version after the transaction: ours +1 on success, the winner's otherwise.
    version: int
    # etcd's revision when the transaction ran: what the next round compacts to.
    revision: int


class CompactionStore(Protocol):
    """The two etcd calls the compactor makes (Storage, or a fake in unit tests)."""

    async def swap_compact_key(self, expected_version: int, revision: int) -> Swap: ...

    async def compact(self, revision: int) -> None: ...


@dataclass
class CompactionState:
    """What one apiserver's compactor carries between rounds."""

    # The version of compact_rev_key this apiserver last saw (0: the key is absent).
    version: int = 0
    # The revision seen one round ago: the next compaction's target (0: none yet).
    revision: int = 0


async def compact_round(store: CompactionStore, state: CompactionState) -> int | None:
    """One round: claim it by compare-and-swap, compact if claimed; the revision compacted to.

    Returns None when another apiserver claimed this round or there is nothing old
    enough yet. The state moves on either way, so a lost round waits a full interval.
    """
    swap = await store.swap_compact_key(state.version, state.revision)
    target = state.revision
    state.revision = swap.revision
    if not swap.succeeded:
        state.version = swap.version
        return None
    state.version = swap.version
    if target == 0:
        return None
    await store.compact(target)
    return target


class Compactor:
    """Runs `compact_round` every `interval` seconds until stopped."""

    def __init__(self, store: CompactionStore, interval: float, *,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 after: Callable[[], Awaitable[object]] | None = None) -> None:
        self._store = store
        # Run after each compaction this apiserver made (defragmentation: defrag.py).
        self._after = after
        self._interval = interval
        self._sleep = sleep
        self.state = CompactionState()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start compacting in the background; an interval of 0 disables it (as Kubernetes)."""
        if self._interval > 0 and self._task is None:
            self._task = asyncio.create_task(self.run(), name="etcd-compactor")

    async def run(self) -> None:
        while True:
            await self._sleep(self._interval)
            try:
                compacted = await compact_round(self._store, self.state)
                if compacted is not None:
                    log.info("component=apiserver etcd compacted revision=%d", compacted)
                    if self._after is not None:
                        await self._after()
            except Exception as exc:  # etcd away, or already compacted: next round
                log.warning("component=apiserver etcd compaction failed err=%s", exc)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
