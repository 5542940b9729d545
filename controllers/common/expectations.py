"""Expectations: what a controller has asked for and not yet seen in its caches.

Kubernetes' ControllerExpectations and UIDTrackingControllerExpectations
(pkg/controller/controller_utils.go). After a ReplicaSet controller creates 3
pods, its pod informer has not seen them yet; a sync triggered by an unrelated
event would count too few pods and create 3 more. So before acting the
controller records "expect 3 creations" for the ReplicaSet's key, the pod
informer's add handler lowers it by one per pod seen, and a sync only acts
once the expectations are satisfied: all observed, or older than the TTL
(5 minutes, Kubernetes' ExpectationsTimeout) in case a watch event was lost.

Deletions are tracked by pod key, not only counted, since a graceful delete
is observed twice (deletionTimestamp set, then the object gone) and must
count once.

Expectations live in memory only. After a restart there are none, which is
right: the informers' fresh list is then the whole truth.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from apimachinery.clock import Clock

from ..base import COMPONENT

log = logging.getLogger(__name__)

EXPECTATIONS_TIMEOUT = 5 * 60.0


@dataclass
class _Expectation:
    add: int
    delete: int
    timestamp: float
    deleting: set[str] = field(default_factory=set)

    def fulfilled(self) -> bool:
        return self.add <= 0 and self.delete <= 0


class ControllerExpectations:
    """Per controller key: creations and deletions still to be observed, with a TTL."""

    def __init__(self, clock: Clock, ttl: float = EXPECTATIONS_TIMEOUT, *,
                 controller: str = "") -> None:
        self._clock = clock
        self._controller = controller  # for the log line
        self._ttl = ttl
        self._items: dict[str, _Expectation] = {}

    def satisfied(self, key: str) -> bool:
        """True when the controller may act: nothing pending, expired, or never recorded."""
        exp = self._items.get(key)
        if exp is None or exp.fulfilled():
            return True
        if self._clock.monotonic() - exp.timestamp > self._ttl:
            log.info("component=%s controller=%s key=%s decision=expectations-expired "
                     "add=%d del=%d", COMPONENT, self._controller, key, exp.add, exp.delete)
            return True
        return False

    def pending(self, key: str) -> tuple[int, int] | None:
        """(creations, deletions) still expected, or None when nothing is recorded."""
        exp = self._items.get(key)
        return None if exp is None else (exp.add, exp.delete)

    def expect_creations(self, key: str, count: int) -> None:
        """Replace the record with `count` creations (SetExpectations(key, count, 0))."""
        self._items[key] = _Expectation(count, 0, self._clock.monotonic())

    def expect_deletions(self, key: str, object_keys: Iterable[str]) -> None:
        """Replace the record with deletions of exactly these objects."""
        keys = set(object_keys)
        self._items[key] = _Expectation(0, len(keys), self._clock.monotonic(), keys)

    def creation_observed(self, key: str) -> None:
        exp = self._items.get(key)
        if exp is not None:
            exp.add -= 1

    def deletion_observed(self, key: str, object_key: str) -> None:
        """Count a deletion once per object, however many events announce it."""
        exp = self._items.get(key)
        if exp is not None and object_key in exp.deleting:
            exp.deleting.discard(object_key)
            exp.delete -= 1

    def delete(self, key: str) -> None:
        """Forget `key` (its controller object is gone)."""
        self._items.pop(key, None)
