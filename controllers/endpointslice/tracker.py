"""Which slice writes the cache has not shown yet: Kubernetes' EndpointSliceTracker.

After the controller creates or updates a slice, its informer may still hold
the older state; a sync run then would count a new slice as missing and
create it again. So every write records, per Service, the slice's name and
the resourceVersion the apiserver answered (a deletion records the name as
gone), and a sync of that Service waits (`stale`) until the cache shows them
all. An expectation the cache never meets (someone else deleted the slice
first, a watch event lost) expires after `ttl` seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from apimachinery import meta
from apimachinery.clock import Clock
from apimachinery.meta import Object

DELETED = ""
EXPECTATION_TTL = 30.0


def _rv(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        return 0


@dataclass
class _Expected:
    since: float
    versions: dict[str, str] = field(default_factory=dict)  # name -> rv, or DELETED


class SliceTracker:
    """Per Service key, the slice versions written and not yet seen in the cache."""

    def __init__(self, clock: Clock, ttl: float = EXPECTATION_TTL) -> None:
        self._clock = clock
        self._ttl = ttl
        self._items: dict[str, _Expected] = {}

    def written(self, service_key: str, slice_: Object) -> None:
        self._entry(service_key).versions[meta.name_of(slice_)] = \
            meta.resource_version_of(slice_)

    def deleted(self, service_key: str, name: str) -> None:
        self._entry(service_key).versions[name] = DELETED

    def _entry(self, service_key: str) -> _Expected:
        entry = self._items.setdefault(service_key, _Expected(self._clock.monotonic()))
        entry.since = self._clock.monotonic()
        return entry

    def stale(self, service_key: str, cached: list[Object]) -> bool:
        """True while the cached slices are older than what this controller wrote."""
        entry = self._items.get(service_key)
        if entry is None:
            return False
        if self._clock.monotonic() - entry.since > self._ttl:
            del self._items[service_key]
            return False
        seen = {meta.name_of(s): meta.resource_version_of(s) for s in cached}
        for name, version in entry.versions.items():
            if version == DELETED and name in seen:
                return True
            if version != DELETED and _rv(seen.get(name, "0")) < _rv(version):
                return True
        del self._items[service_key]
        return False

    def forget(self, service_key: str) -> None:
        self._items.pop(service_key, None)
