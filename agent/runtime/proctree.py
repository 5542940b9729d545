"""Kill a process and everything it started, by host PID: how a timed-out exec ends.

Docker has no call to stop an exec: the engine only reports the exec's process
(`Pid` in the exec's inspection, a PID of the engine's PID namespace). Left
alone, a probe command that hangs keeps a thread of the agent and a process of
the container forever, one more each period. The kubelet's CRI runtimes kill
the exec's process when `ExecSync`'s timeout passes (KEP-1972 made the kubelet
honour exec probes' `timeoutSeconds`); the agent does the same from the host:
it reads the process tree from `/proc`, so a `sh -c` and the children it
forked go together (a child left behind would hold the output pipe open, and
the exec would never end). This needs the agent in the engine's PID namespace
with the right to signal the container's processes (root on the node, as the
kubelet runs), which a node has; a PID whose cgroup does not name the container
is left alone.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
from collections.abc import Iterable, Mapping
from pathlib import Path

log = logging.getLogger(__name__)
PROC = Path("/proc")


def parent_of(stat: str) -> int | None:
    """The parent PID from a `/proc/<pid>/stat` line (the command, in parentheses, may
    hold spaces and parentheses: the fields after its last `)` are the reliable ones)."""
    _, _, rest = stat.rpartition(")")
    fields = rest.split()
    try:
        return int(fields[1])
    except (IndexError, ValueError):
        return None


def descendants(root: int, parents: Mapping[int, int]) -> list[int]:
    """`root` and every process below it, parents before children."""
    children: dict[int, list[int]] = {}
    for pid, ppid in parents.items():
        children.setdefault(ppid, []).append(pid)
    tree, queue = [], [root]
    while queue:
        pid = queue.pop(0)
        if pid in tree:
            continue
        tree.append(pid)
        queue.extend(sorted(children.get(pid, [])))
    return tree


def read_parents(proc: Path = PROC) -> dict[int, int]:
    """PID -> parent PID of every process visible now."""
    parents: dict[int, int] = {}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            ppid = parent_of((entry / "stat").read_text())
            if ppid is not None:
                parents[int(entry.name)] = ppid
    return parents


def in_container(pid: int, container_id: str, proc: Path = PROC) -> bool:
    """Whether process `pid`, as this agent sees it, belongs to the container (its cgroup
    path names the container's id). If the agent is not in the engine's PID namespace the
    engine's PID may name another process here: that one must never be killed."""
    try:
        return container_id in (proc / str(pid) / "cgroup").read_text()
    except OSError:
        return False


def kill_tree(root: int, container_id: str, pids: Iterable[int] | None = None) -> int:
    """SIGKILL `root` and its descendants, if `root` is the container's; how many were
    signalled. The tree is read first and killed after, so no child is reparented out
    of sight in between."""
    if not in_container(root, container_id):
        log.warning("component=agent exec process pid=%d is not container %s's as this agent "
                    "sees it; not killed", root, container_id[:12])
        return 0
    tree = list(pids) if pids is not None else descendants(root, read_parents())
    killed = 0
    for pid in tree:
        try:
            os.kill(pid, signal.SIGKILL)
            killed += 1
        except ProcessLookupError:
            continue  # ended meanwhile
        except PermissionError:
            log.warning("component=agent cannot kill exec process pid=%d: not permitted", pid)
    return killed


__all__ = ["descendants", "in_container", "kill_tree", "parent_of", "read_parents"]
