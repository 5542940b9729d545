"""Writes audit events as JSON lines, off the event loop, rotating the file by size.

A request only puts its event on a bounded queue (`submit`, never blocking); one
thread serializes and writes. When the queue is full — the disk stalls, or events
come faster than it takes them — the event is dropped, counted in
`apiserver_audit_error_total{plugin="log"}` and warned about once a minute: as
kube-apiserver's `batch` mode drops on a full buffer, never its `blocking` mode,
which would hold every request behind the disk.

Rotation follows kube-apiserver's flags (its lumberjack logger): past `max_bytes`
the file is renamed to `NAME-<UTC time>.EXT` and a new one opened; then backups
beyond `max_backups` (0: all kept) and older than `max_age_days` (0: no limit)
are deleted. The path `-` writes to standard output and never rotates.
"""

from __future__ import annotations

import logging
import os
import queue
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import orjson
from prometheus_client import Counter

from .. import metrics

log = logging.getLogger("apiserver.audit")

EVENTS = Counter("apiserver_audit_event_total", "Audit events generated and sent to the log.",
                 registry=metrics.REGISTRY)
ERRORS = Counter("apiserver_audit_error_total",
                 "Audit events that could not be written (dropped on a full queue).",
                 ["plugin"], registry=metrics.REGISTRY)

_STOP = object()
_WARN_EVERY = 60.0


class AuditWriter:
    def __init__(self, path: str, *, max_bytes: int = 100 * 1024 * 1024, max_backups: int = 0,
                 max_age_days: int = 0, capacity: int = 10_000) -> None:
        self.path = path
        self.max_bytes, self.max_backups, self.max_age_days = max_bytes, max_backups, max_age_days
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=capacity)
        self._file: IO[bytes] | None = None
        self._size = 0
        self._warned = 0.0
        self._thread = threading.Thread(target=self._run, name="audit-writer", daemon=True)

    def start(self) -> None:
        if self.path != "-":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._thread.start()

    def submit(self, event: dict[str, Any] | bytes) -> bool:
        """Queue one event (or its JSON); False (and counted) when the queue is full."""
        try:
            self._queue.put_nowait(event)
        except queue.Full:
            ERRORS.labels("log").inc()
            now = time.monotonic()
            if now - self._warned > _WARN_EVERY:
                self._warned = now
                log.warning("component=apiserver audit queue full: events dropped "
                            "capacity=%d", self._queue.maxsize)
            return False
        EVENTS.inc()
        return True

    def close(self, timeout: float = 5.0) -> None:
        """Write what is queued, then stop."""
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            event = self._queue.get()
            if event is _STOP:
                break
            try:
                data = event if isinstance(event, bytes) else orjson.dumps(event)
                self._write(data + b"\n")
            except OSError as exc:
                ERRORS.labels("log").inc()
                log.error("component=apiserver audit write failed path=%s error=%s",
                          self.path, exc)
                self._file = None
        if self._file is not None and self.path != "-":
            self._file.close()

    def _write(self, line: bytes) -> None:
        if self.path == "-":
            sys.stdout.buffer.write(line)
            sys.stdout.buffer.flush()
            return
        if self._file is None:
            self._open()
        if self._size and self._size + len(line) > self.max_bytes:
            self._rotate()
        assert self._file is not None
        self._file.write(line)
        self._file.flush()
        self._size += len(line)

    def _open(self) -> None:
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._file = os.fdopen(fd, "ab")
        self._size = os.fstat(fd).st_size

    def _rotate(self) -> None:
        assert self._file is not None
        self._file.close()
        path = Path(self.path)
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H-%M-%S.%f")[:-3]
        os.replace(path, path.with_name(f"{path.stem}-{stamp}{path.suffix}"))
        self._open()
        self._prune()

    def backups(self) -> list[Path]:
        """The rotated files, oldest first (their names sort by time)."""
        path = Path(self.path)
        return sorted(p for p in path.parent.glob(f"{path.stem}-*{path.suffix}")
                      if p != path)

    def _prune(self) -> None:
        old = self.backups()
        doomed = set(old[:-self.max_backups]) if self.max_backups else set()
        if self.max_age_days:
            cutoff = time.time() - self.max_age_days * 86400
            doomed |= {p for p in old if p.stat().st_mtime < cutoff}
        for p in doomed:
            p.unlink(missing_ok=True)
