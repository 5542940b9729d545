"""A followed log across rotations, without the lines Docker sends twice.

With rotation on (`LogRotation`), Docker 20.10's json-file follower re-reads
part of the rotated file each time the file rotates: on this machine a
`docker logs -f` of a container writing 500 lines a second into 16 KiB files
repeated 3-50 lines at every rotation (moby has a long history of follow bugs
at rotation: #23913, #32038, #37646). So a follow asks Docker for timestamps,
whatever the caller asked, and drops every message older than the newest one
passed on, or equal to it and already passed on; the timestamps are then
taken off again unless the caller wanted them. Lines a follower falls more
than `max_files` rotations behind on are gone, as with the kubelet's own log
rotation.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

_NO_TIME = -1


def timestamp_ns(stamp: bytes) -> int:
    """Docker's RFC 3339 nano timestamp (`2026-12-07T02:40:27.705Z`, trailing zeros of the
    fraction trimmed) in nanoseconds since the epoch; -1 if it is not one."""
    try:
        text = stamp.decode("ascii")
        whole, _, rest = text.partition(".")
        fraction = rest.rstrip("Z")
        if not rest:
            whole = whole.rstrip("Z")
        seconds = int(datetime.fromisoformat(whole + "+00:00").timestamp())
        return seconds * 1_000_000_000 + int((fraction or "0").ljust(9, "0")[:9])
    except (UnicodeDecodeError, ValueError):
        return _NO_TIME


class FollowDeduper:
    """Passes each log message (one Docker frame, `<timestamp> <text>`) on at most once."""

    def __init__(self, keep_timestamps: bool) -> None:
        self._keep = keep_timestamps
        self._newest = _NO_TIME
        self._at_newest: set[bytes] = set()

    def accept(self, frame: bytes) -> bytes | None:
        """The frame to pass on (its timestamp taken off unless kept), or None: seen."""
        stamp, _, text = frame.partition(b" ")
        when = timestamp_ns(stamp)
        if when == _NO_TIME:  # not a stamped message (never expected): pass it as it is
            return frame
        if when < self._newest or (when == self._newest and text in self._at_newest):
            return None
        if when > self._newest:
            self._newest, self._at_newest = when, set()
        self._at_newest.add(text)
        return frame if self._keep else text


class DedupedStream:
    """An SDK log stream with `FollowDeduper` applied; `close` reaches the socket."""

    def __init__(self, stream: Any, keep_timestamps: bool) -> None:
        self._stream = stream
        self._dedupe = FollowDeduper(keep_timestamps)

    def __iter__(self) -> Iterator[bytes]:
        for frame in self._stream:
            passed = self._dedupe.accept(frame)
            if passed is not None:
                yield passed

    def close(self) -> None:
        self._stream.close()


__all__ = ["DedupedStream", "FollowDeduper", "timestamp_ns"]
