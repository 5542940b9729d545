"""Picking a free value from a range: what the ClusterIP and NodePort allocators share.

Kubernetes' `pkg/registry/core/service/allocator` keeps a bitmap per range and
starts each search at a random offset, so that concurrent allocators rarely
reach for the same value. Since KEP-3070 (ClusterIPs) and KEP-3668
(NodePorts), a range is split in two bands: the lower band is kept for values
users ask for explicitly (a cluster's DNS at `.10`), the upper band is used
first for dynamic allocation, and the lower band only once the upper is full.

Schooner has no bitmap: the taken values are read from etcd (one key per
value) and passed in, so these functions are pure and unit-tested with a
seeded random source. `Allocator` is how the generic registry asks a kind
for the values to reserve with a write.
"""

from __future__ import annotations

import random
from collections.abc import Container
from typing import Protocol

from apimachinery.meta import Object

from .storage import Reservations, Reserver


def range_offset(size: int, *, minimum: int, maximum: int, step: int) -> int:
    """The size of the static (lower) band of a range of `size` values.

    Kubernetes' `calculateRangeOffset`: `size / step`, clamped to
    [minimum, maximum]; no band at all for a range smaller than `minimum`.
    """
    if size < minimum:
        return 0
    return max(minimum, min(size // step, maximum))


def pick_free(low: int, high: int, static_band: int, taken: Container[int],
              rng: random.Random) -> int | None:
    """A value in [low, high) that is not taken, or None when the range is full.

    The dynamic band [low + static_band, high) is searched first, from a random
    start and wrapping around, then the static band [low, low + static_band).
    """
    split = min(low + static_band, high)
    for band_low, band_high in ((split, high), (low, split)):
        found = _scan(band_low, band_high, taken, rng)
        if found is not None:
            return found
    return None


def _scan(low: int, high: int, taken: Container[int], rng: random.Random) -> int | None:
    """The first free value of [low, high) from a random start, wrapping around."""
    size = high - low
    if size <= 0:
        return None
    start = rng.randrange(size)
    for step in range(size):
        value = low + (start + step) % size
        if value not in taken:
            return value
    return None


class Allocator(Protocol):
    """Values a kind takes from a shared range, reserved with the object's own writes.

    Kubernetes' Service REST wraps the generic store with the same two steps:
    allocate on create and update (`beginCreate`/`beginUpdate`), release on
    delete.
    """

    async def allocate(self, new: Object, old: Object | None) -> Reservations:
        """Fill in `new`'s allocated fields; what to claim, and what `old` held to release."""
        ...

    def release(self, old: Object) -> Reservations:
        """Everything `old` holds, to release as it is deleted."""
        ...


def reserver(allocator: Allocator | None) -> Reserver | None:
    """`allocator` as the hook Storage.guaranteed_update runs before it writes or deletes."""
    if allocator is None:
        return None

    async def reserve(before: Object, after: Object | None) -> Reservations:
        if after is None:
            return allocator.release(before)
        return await allocator.allocate(after, before)

    return reserve
