"""Per-container restart back-off: client-go's `flowcontrol.Backoff` as the kubelet uses it.

The kubelet keeps one entry per container (`podFullName_uid_containerName`),
starting at 10 s and doubling up to 5 min (MaxContainerBackOff). A container
that died at `event_time` is in back-off while less than the current delay has
passed since then; once out, the restart records `next()`, which doubles the
delay. An entry whose last restart is more than twice the cap old (10 min with
the defaults: the container ran that long) starts over from the base delay.
Image pulls use the same mechanism with their own keys. Time comes from the
injected clock, so tests step a FakeClock instead of sleeping.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from apimachinery.clock import Clock

DEFAULT_BASE = 10.0
DEFAULT_MAX = 300.0


@dataclass
class _Entry:
    delay: float
    last_update: datetime


def go_duration(seconds: float) -> str:
    """Go's time.Duration.String for whole seconds: `10s`, `1m20s`, `5m0s`."""
    total = round(seconds)
    if 0 < seconds < 1:
        return f"{int(seconds * 1000)}ms"
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    if minutes:
        return f"{minutes}m{secs}s"
    return f"{secs}s"


class Backoff:
    """Exponential back-off per key, on an injected clock."""

    def __init__(self, clock: Clock, base: float = DEFAULT_BASE,
                 maximum: float = DEFAULT_MAX) -> None:
        self.clock, self.base, self.maximum = clock, base, maximum
        self._entries: dict[str, _Entry] = {}

    def _expired(self, event_time: datetime, entry: _Entry) -> bool:
        """Stable for twice the cap since the last restart: forget the history."""
        return (event_time - entry.last_update).total_seconds() > self.maximum * 2

    def get(self, key: str) -> float:
        """The current delay for `key` (0 when it has none)."""
        entry = self._entries.get(key)
        return entry.delay if entry else 0.0

    def in_backoff_since(self, key: str, event_time: datetime) -> bool:
        """True while less than the current delay has passed since `event_time`."""
        return self.remaining(key, event_time) > 0

    def remaining(self, key: str, event_time: datetime) -> float:
        """Seconds until `key` may be retried after a failure at `event_time` (0: now)."""
        entry = self._entries.get(key)
        if entry is None or self._expired(event_time, entry):
            return 0.0
        elapsed = (self.clock.now() - event_time).total_seconds()
        return max(0.0, entry.delay - elapsed)

    def remaining_since_update(self, key: str) -> float:
        """Seconds until `key` may be retried, counted from its last `next()` (image pulls)."""
        entry = self._entries.get(key)
        now = self.clock.now()
        if entry is None or self._expired(now, entry):
            return 0.0
        return max(0.0, entry.delay - (now - entry.last_update).total_seconds())

    def next(self, key: str, event_time: datetime) -> None:
        """Record a retry of `key` after a failure at `event_time`: double the delay."""
        entry = self._entries.get(key)
        if entry is None or self._expired(event_time, entry):
            entry = _Entry(self.base, self.clock.now())
        else:
            entry.delay = min(entry.delay * 2, self.maximum)
            entry.last_update = self.clock.now()
        self._entries[key] = entry

    def forget(self, prefix: str) -> None:
        """Drop every key starting with `prefix` (a pod's uid, once the pod is gone)."""
        for key in [k for k in self._entries if k.startswith(prefix)]:
            del self._entries[key]

    def __len__(self) -> int:
        return len(self._entries)
