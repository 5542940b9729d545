"""The machine stamp every scale table and plot carries: figures mean little without it.

Cores, memory, Python, the etcd binary's version (`etcd --version`), the commit and
the command, so a reader can tell a slow machine from a slow build.
"""

from __future__ import annotations

import datetime
import os
import platform
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from cli.cluster.components import find_etcd

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Stamp:
    cores: int
    cpu: str
    memory_gib: float
    python: str
    etcd: str
    commit: str
    date: str
    command: str
    load: str  # the 1/5/15-minute load average when the run began: a shared machine shows


    def markdown(self) -> str:
        """Two lines for the head of a benchmark section."""
        return (f"Command: `{self.command}` — {self.date} — commit `{self.commit}`\n\n"
                f"Machine: {self.cores} cores ({self.cpu}), {self.memory_gib:.1f} GiB, "
                f"Python {self.python}, etcd {self.etcd}; load average at the start {self.load}.\n")

    def caption(self) -> str:
        """One short line for the foot of a plot."""
        return (f"{self.cores} cores, {self.memory_gib:.1f} GiB, Python {self.python}, "
                f"etcd {self.etcd}, {self.commit}, {self.date}: {self.command}")


def etcd_version() -> str:
    """The first line of `etcd --version`, e.g. `etcd Version: 3.5.1` -> `3.5.1`."""
    out = subprocess.run([find_etcd(), "--version"], capture_output=True, text=True,
                         timeout=10, check=False).stdout.splitlines()
    return out[0].split(":", 1)[-1].strip() if out else "?"


def stamp(command: str) -> Stamp:
    cpuinfo = Path("/proc/cpuinfo").read_text(errors="replace")
    model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.M)
    mem = re.search(r"^MemTotal:\s*(\d+) kB", Path("/proc/meminfo").read_text(), re.M)
    commit = subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
                            capture_output=True, text=True, timeout=10, check=False)
    return Stamp(
        cores=os.cpu_count() or 0, cpu=model.group(1).strip() if model else "?",
        memory_gib=int(mem.group(1)) / 2**20 if mem else 0.0,
        python=platform.python_version(), etcd=etcd_version(),
        commit=commit.stdout.strip() or "?",
        date=datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        command=command, load=" / ".join(Path("/proc/loadavg").read_text().split()[:3]))
