"""A container's termination message: `terminationMessagePath` and `terminationMessagePolicy`.

As the kubelet does it: before a container starts, an empty file of the node
(`<root-dir>/pods/<uid>/containers/<name>/<attempt>-termination-log`, mode 0666 so a
non-root process can write it) is bind-mounted at the container's
`terminationMessagePath` (`/dev/termination-log` by default). A file in the
container's own `/dev` would not do: `/dev` is a tmpfs that ends with the container.
Once the container has exited, the agent reads at most 4096 bytes of that file
(kubelet's MaxContainerTerminationMessageLength) into
`state.terminated.message` (and `lastState` after a restart). With
`FallbackToLogsOnError`, an empty file and a non-zero exit code give the container's
last log lines instead: the last 80 lines, at most 2048 bytes of them
(MaxContainerTerminationMessageLogLines/Length).

Exited containers never change, so each message is read once per container instance
and kept until the pod is forgotten.
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

from agent.runtime.container import ContainerRecord, ContainerRuntimeError, Mount, PodObservation
from agent.runtime.protocol import ContainerRuntime
from apimachinery.meta import Object

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 4 * 1024
MAX_LOG_LINES = 80
MAX_LOG_BYTES = 2 * 1024
DEFAULT_PATH = "/dev/termination-log"


def message_file(root_dir: Path, pod_uid: str, container: str, attempt: int) -> Path:
    """The node's file behind one container instance's terminationMessagePath."""
    return root_dir / "pods" / pod_uid / "containers" / container / f"{attempt}-termination-log"


def prepare(path: Path) -> None:
    """Create the empty file (0666: any user of the container may write it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    os.chmod(path, 0o666)


def termination_mount(container: Object, path: Path, taken: tuple[Mount, ...]) -> Mount | None:
    """The bind mount of `path` at the container's terminationMessagePath, unless a volume
    is mounted there already (the kubelet, too, leaves the path to the volume then)."""
    target = str(container.get("terminationMessagePath") or DEFAULT_PATH)
    if any(m.target.rstrip("/") == target.rstrip("/") for m in taken):
        return None
    return Mount("bind", str(path), target)


def read_file(path: Path) -> str:
    """At most MAX_MESSAGE_BYTES of the file; a missing file is no message."""
    try:
        with path.open("rb") as f:
            return f.read(MAX_MESSAGE_BYTES).decode("utf-8", "replace")
    except OSError:
        return ""


def last_lines(raw: bytes) -> str:
    """The first MAX_LOG_BYTES of the last MAX_LOG_LINES lines (kubelet's TailLines +
    LimitBytes)."""
    lines = raw.splitlines(keepends=True)[-MAX_LOG_LINES:]
    return b"".join(lines)[:MAX_LOG_BYTES].decode("utf-8", "replace")


def _policy(pod: Object, name: str) -> str:
    spec = pod.get("spec") or {}
    for c in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]:
        if c.get("name") == name:
            return str(c.get("terminationMessagePolicy") or "File")
    return "File"


class TerminationMessages:
    """Reads and keeps the termination message of each exited container of the node's pods."""

    def __init__(self, runtime: ContainerRuntime, root_dir: Path) -> None:
        self.runtime, self.root_dir = runtime, root_dir
        self._known: dict[str, dict[str, str]] = {}  # pod uid -> container id -> message

    async def collect(self, pod: Object, observed: PodObservation) -> dict[str, str]:
        """container id -> message, for every exited instance of the pod's containers."""
        uid = str((pod.get("metadata") or {}).get("uid") or "")
        known = self._known.setdefault(uid, {})
        for records in observed.containers.values():
            for record in records:
                if record.id not in known and record.state.value == "exited":
                    known[record.id] = await self._read(uid, record, _policy(pod, record.name))
        return dict(known)

    async def _read(self, uid: str, record: ContainerRecord, policy: str) -> str:
        path = message_file(self.root_dir, uid, record.name, record.restart_count)
        message = await asyncio.to_thread(read_file, path)
        if message or policy != "FallbackToLogsOnError" or not record.exit_code:
            return message
        return await self._logs(record)

    async def _logs(self, record: ContainerRecord) -> str:
        stream = self.runtime.stream_logs(record.id, follow=False, tail=MAX_LOG_LINES,
                                          timestamps=False)
        raw = bytearray()
        try:
            async for chunk in stream.chunks():
                raw += chunk
        except ContainerRuntimeError as exc:
            log.info("component=agent termination message from logs failed container=%s "
                     "error=%s", record.id[:12], exc)
        finally:
            stream.close()
        return last_lines(bytes(raw))

    def forget(self, uid: str) -> None:
        self._known.pop(uid, None)


__all__ = ["TerminationMessages", "message_file", "prepare", "termination_mount"]
