"""RSS and CPU seconds of the control-plane processes, read from /proc/PID.

A process is named by the caller (etcd, apiserver, ...); sampling only reads /proc,
so it never signals or slows what it measures.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field
from pathlib import Path


def rss_bytes(pid: int) -> int:
    """Resident set size now (VmRSS), 0 once the process is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def cpu_seconds(pid: int) -> float:
    """User+system CPU of the process (every thread) so far, 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Usage:
    """One process over one window: CPU seconds used, mean and peak RSS."""

    cpu: float = 0.0
    rss_peak: int = 0
    rss_samples: list[int] = field(default_factory=list)

    @property
    def rss_mean(self) -> float:
        return sum(self.rss_samples) / len(self.rss_samples) if self.rss_samples else 0.0


class Sampler:
    """Samples RSS of named PIDs every `interval` seconds while a window is open."""

    def __init__(self, pids: dict[str, int], interval: float = 0.5) -> None:
        self.pids, self.interval = pids, interval
        self.usage: dict[str, Usage] = {}
        self._cpu0: dict[str, float] = {}
        self._task: asyncio.Task[None] | None = None
        self.seconds = 0.0

    async def __aenter__(self) -> Sampler:
        self.usage = {name: Usage() for name in self.pids}
        self._cpu0 = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
        self._start = asyncio.get_running_loop().time()
        self._task = asyncio.create_task(self._sample())
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        self._one()
        self.seconds = asyncio.get_running_loop().time() - self._start
        for name, pid in self.pids.items():
            self.usage[name].cpu = cpu_seconds(pid) - self._cpu0[name]

    async def _sample(self) -> None:
        while True:
            self._one()
            await asyncio.sleep(self.interval)

    def _one(self) -> None:
        for name, pid in self.pids.items():
            rss = rss_bytes(pid)
            self.usage[name].rss_samples.append(rss)
            self.usage[name].rss_peak = max(self.usage[name].rss_peak, rss)
