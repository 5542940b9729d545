"""etcd leases for objects that expire (Events), shared between writes close together.

A kind whose objects live only for a while (its `Kind.ttl`: Events, for
`--event-ttl`) is written with an etcd lease, and etcd deletes the key when the
lease runs out; a watcher sees an ordinary DELETED event. One lease per write
would make etcd track one lease per Event (a busy cluster writes hundreds a
minute), so, as Kubernetes' storage LeaseManager
(`k8s.io/apiserver/pkg/storage/etcd3/lease_manager.go`) does, a lease is reused
for writes within a short window: a window of 5% of the TTL, at most 60 s, and
the lease is granted for TTL + window. So every object lives between its TTL
and its TTL plus the window, never less, and writes within one window share one
lease (up to 1,000 objects on a lease, Kubernetes' limit, so revoking or
expiring one lease never deletes too much at once).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

# Kubernetes' defaults (LeaseManagerConfig): reuse within 5% of the TTL, at most 60 s,
# at most 1,000 objects per lease.
REUSE_FRACTION = 0.05
MAX_REUSE_SECONDS = 60
MAX_OBJECTS_PER_LEASE = 1000

Grant = Callable[[int], Awaitable[int]]


class LeaseManager:
    """Hands out a lease ID for a write with a TTL, reusing the last one while it fits."""

    def __init__(self, grant: Grant, *, clock: Callable[[], float] = time.monotonic,
                 reuse_fraction: float = REUSE_FRACTION,
                 max_reuse_seconds: int = MAX_REUSE_SECONDS,
                 max_objects: int = MAX_OBJECTS_PER_LEASE) -> None:
        self._grant = grant
        self._clock = clock
        self._reuse_fraction = reuse_fraction
        self._max_reuse_seconds = max_reuse_seconds
        self._max_objects = max_objects
        # One cache per TTL: kinds with different TTLs never share a lease.
        self._leases: dict[int, tuple[int, float, int]] = {}  # ttl -> (id, expires, objects)
        self._lock = asyncio.Lock()

    def reuse_seconds(self, ttl: int) -> int:
        """How long a lease for `ttl` is reused: 5% of it, at most 60 s (whole seconds)."""
        return min(int(self._reuse_fraction * ttl), self._max_reuse_seconds)

    async def lease(self, ttl: int) -> int:
        """A lease that outlives `ttl` seconds from now, by at most the reuse window.

        Serialised, so of many writes at once the first grants and the others reuse.
        """
        async with self._lock:
            now = self._clock()
            window = self.reuse_seconds(ttl)
            cached = self._leases.get(ttl)
            if cached is not None:
                lease_id, expires, objects = cached
                # Valid: it outlives this object's TTL. Sufficient: not by more than the
                # window, so no object lives much past its TTL.
                if (now + ttl < expires <= now + ttl + window
                        and objects < self._max_objects):
                    self._leases[ttl] = (lease_id, expires, objects + 1)
                    return lease_id
            lease_id = await self._grant(ttl + window)
            self._leases[ttl] = (lease_id, now + ttl + window, 1)
            return lease_id

    def forget(self) -> None:
        """Drop the cached leases (after a failed write that may name a revoked one)."""
        self._leases.clear()
