"""Termination messages: the node file behind terminationMessagePath, the log fallback, and
where they land in the pod's status."""

from __future__ import annotations

import asyncio
import stat
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

from agent.podsync.pod_status import compute_pod_status
from agent.podsync.termination_message import (
    MAX_LOG_BYTES,
    MAX_MESSAGE_BYTES,
    TerminationMessages,
    last_lines,
    message_file,
    prepare,
    read_file,
    termination_mount,
)
from agent.runtime.container import ContainerRecord, Mount, PodObservation, State
from agent.runtime.protocol import ContainerLogs
from apimachinery.meta import Object
from tests.unit.agent.fakes import UnusedRuntime

UID = "uid-1"
NOW = datetime(2026, 1, 1, tzinfo=UTC)


class Logs:
    def __init__(self, data: bytes) -> None:
        self.data, self.closed = data, False

    async def chunks(self) -> AsyncIterator[bytes]:
        yield self.data

    def close(self) -> None:
        self.closed = True


class LogRuntime(UnusedRuntime):
    """Serves one container's log, and records what was asked."""

    def __init__(self, data: bytes) -> None:
        self.data, self.asked = data, []  # type: ignore[var-annotated]

    def stream_logs(self, container_id: str, *, follow: bool, tail: int | None,
                    timestamps: bool, since: datetime | None = None) -> ContainerLogs:
        self.asked.append((container_id, follow, tail, timestamps))
        return Logs(self.data)


def pod(policy: str = "File", path: str = "/dev/termination-log") -> Object:
    return {"metadata": {"name": "p", "namespace": "ns", "uid": UID},
            "spec": {"restartPolicy": "Always", "containers": [
                {"name": "c", "image": "busybox", "terminationMessagePath": path,
                 "terminationMessagePolicy": policy}]}}


def exited(restart: int, code: int, cid: str = "") -> ContainerRecord:
    return ContainerRecord(id=cid or f"id{restart}", name="c", pod_uid=UID,
                           restart_count=restart, state=State.EXITED, exit_code=code,
                           created_at=NOW, started_at=NOW, finished_at=NOW)


def test_the_mount_is_a_fresh_world_writable_file(tmp_path: Path) -> None:
    path = message_file(tmp_path, UID, "c", 2)
    assert path == tmp_path / "pods" / UID / "containers" / "c" / "2-termination-log"
    prepare(path)
    assert path.read_bytes() == b"" and stat.S_IMODE(path.stat().st_mode) == 0o666
    assert termination_mount({"terminationMessagePath": "/tmp/msg"}, path, ()) == \
        Mount("bind", str(path), "/tmp/msg")
    volume = Mount("volume", "v", "/tmp/msg/")
    assert termination_mount({"terminationMessagePath": "/tmp/msg"}, path, (volume,)) is None


def test_reads_are_bounded_as_the_kubelets(tmp_path: Path) -> None:
    big = tmp_path / "big"
    big.write_bytes(b"x" * (MAX_MESSAGE_BYTES + 100))
    assert len(read_file(big)) == MAX_MESSAGE_BYTES == 4096
    assert read_file(tmp_path / "missing") == ""
    lines = b"".join(b"line %d\n" % i for i in range(100))
    assert last_lines(lines).splitlines()[0] == "line 20"  # the last 80
    assert len(last_lines(b"y" * 5000)) == MAX_LOG_BYTES == 2048


def test_the_file_gives_the_message_once_per_instance(tmp_path: Path) -> None:
    runtime = LogRuntime(b"never read")
    messages = TerminationMessages(runtime, tmp_path)
    path = message_file(tmp_path, UID, "c", 0)
    prepare(path)
    path.write_text("bye\n")
    observed = PodObservation.of([exited(0, 3)])
    assert asyncio.run(messages.collect(pod(), observed)) == {"id0": "bye\n"}
    path.write_text("changed")  # an exited container's message is read once
    assert asyncio.run(messages.collect(pod(), observed)) == {"id0": "bye\n"}
    assert runtime.asked == []
    messages.forget(UID)
    assert asyncio.run(messages.collect(pod(), observed)) == {"id0": "changed"}


def test_fallback_to_logs_only_on_error_with_an_empty_file(tmp_path: Path) -> None:
    runtime = LogRuntime(b"".join(b"l%d\n" % i for i in range(90)))
    messages = TerminationMessages(runtime, tmp_path)
    prepare(message_file(tmp_path, UID, "c", 0))
    prepare(message_file(tmp_path, UID, "c", 1))
    observed = PodObservation.of([exited(0, 0), exited(1, 2)])
    got = asyncio.run(messages.collect(pod("FallbackToLogsOnError"), observed))
    assert got["id0"] == ""  # exit code 0: no fallback
    assert got["id1"].splitlines()[0] == "l10" and got["id1"].endswith("l89\n")
    assert runtime.asked == [("id1", False, 80, False)]
    plain = TerminationMessages(LogRuntime(b"x"), tmp_path)
    assert asyncio.run(plain.collect(pod("File"), observed)) == {"id0": "", "id1": ""}


def test_messages_land_in_state_and_last_state() -> None:
    observed = PodObservation.of([exited(1, 2), exited(0, 1)])
    status = compute_pod_status(pod(), observed, reasons={}, host_ip="10.0.0.1", now=NOW,
                                messages={"id1": "second", "id0": "first"})
    cs = status["containerStatuses"][0]
    assert cs["state"]["terminated"]["message"] == "second"
    assert cs["lastState"]["terminated"]["message"] == "first"
    bare = compute_pod_status(pod(), observed, reasons={}, host_ip="10.0.0.1", now=NOW)
    assert "message" not in bare["containerStatuses"][0]["state"]["terminated"]
