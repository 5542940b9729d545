"""What Docker says about the node's resources, read into runtime-neutral types.

Pure helpers of `docker_runtime`, for the image GC and the eviction manager:
an image's record from Docker's image list or df, a container's working set
from its stats, its log files' size, the image filesystem's statvfs, and the
json-file log options that rotate a container's log (`LogRotation`).
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

from docker.types import LogConfig

from agent.runtime.container import FsStats, ImageRecord, LogRotation


def image_record(row: dict[str, Any]) -> ImageRecord:
    """An `ImageRecord` from a row of Docker's df or image list (SharedSize -1: not computed)."""
    size, shared = int(row.get("Size") or 0), int(row.get("SharedSize") or 0)
    tags = tuple(t for t in row.get("RepoTags") or () if t != "<none>:<none>")
    labels = tuple(sorted((row.get("Labels") or {}).items()))
    return ImageRecord(id=str(row["Id"]), tags=tags, size=max(0, size - max(0, shared)),
                       created=float(row.get("Created") or 0), labels=labels)


def working_set(stats: dict[str, Any]) -> int:
    """Memory usage less the inactive file cache, as the kubelet's working set (cgroup v1
    `total_inactive_file`, v2 `inactive_file`)."""
    memory = stats.get("memory_stats") or {}
    detail = memory.get("stats") or {}
    inactive = detail.get("total_inactive_file", detail.get("inactive_file", 0))
    return max(0, int(memory.get("usage") or 0) - int(inactive or 0))


def log_bytes(log_path: str) -> int:
    """The size of a container's json-file log and its rotated files."""
    if not log_path:
        return 0
    total = 0
    folder, name = os.path.split(log_path)
    with contextlib.suppress(OSError):
        for entry in os.scandir(folder):
            if entry.name.startswith(name):
                total += entry.stat().st_size
    return total


def fs_stats(path: str) -> FsStats:
    """Size and space available to unprivileged users, as the kubelet's cadvisor reads them."""
    st = os.statvfs(path)
    return FsStats(capacity=st.f_blocks * st.f_frsize, available=st.f_bavail * st.f_frsize)


def docker_log_config(rotation: LogRotation) -> LogConfig:
    """Docker's json-file driver with rotation, whatever the daemon's default driver: the
    engine rotates the file at `max-size` and keeps `max-file` of them, and its logs API
    (hence `kubectl logs`, tail and follow) reads across the rotated files."""
    return LogConfig(type=LogConfig.types.JSON, config={
        "max-size": str(rotation.max_size), "max-file": str(rotation.max_files)})


__all__ = ["docker_log_config", "fs_stats", "image_record", "log_bytes", "working_set"]
