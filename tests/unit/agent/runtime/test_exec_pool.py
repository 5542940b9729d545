"""The runtime's exec: a bounded pool of its own, output capped, timed-out commands killed.

Against a fake Docker API whose execs write scripted output and end only when
killed or released, and a real process tree for `proctree`.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.runtime import proctree
from agent.runtime.container import ExecTimeout
from agent.runtime.docker_runtime import EXEC_SLOTS, DockerRuntime


class FakeExecAPI:
    """exec_create/exec_start/exec_inspect: each exec streams `chunks`, then blocks until
    its event is set (released, or 'killed' through the patched kill_tree)."""

    def __init__(self, chunks: list[bytes], *, hang: bool = False) -> None:
        self.chunks, self.hang = chunks, hang
        self.ends: dict[str, threading.Event] = {}
        self.running = 0
        self.most = 0
        self.lock = threading.Lock()

    def exec_create(self, container_id: str, command: list[str], **_: Any) -> dict[str, str]:
        exec_id = f"e{len(self.ends)}"
        self.ends[exec_id] = threading.Event()
        return {"Id": exec_id}

    def exec_start(self, exec_id: str, stream: bool) -> Iterator[bytes]:
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            yield from self.chunks
            if self.hang:
                self.ends[exec_id].wait(10)
        finally:
            with self.lock:
                self.running -= 1

    def exec_inspect(self, exec_id: str) -> dict[str, Any]:
        ended = self.ends[exec_id].is_set() or not self.hang
        return {"Running": not ended, "Pid": 4242 + int(exec_id[1:]), "ExitCode": 0,
                "ContainerID": "c1"}


class FakeClient:
    def __init__(self, api: FakeExecAPI) -> None:
        self.api = api

    def close(self) -> None:
        pass


def runtime_with(api: FakeExecAPI, monkeypatch: pytest.MonkeyPatch) -> tuple[DockerRuntime,
                                                                           list[int]]:
    killed: list[int] = []

    def kill_tree(pid: int, container_id: str) -> int:
        assert container_id == "c1"
        killed.append(pid)
        api.ends[f"e{pid - 4242}"].set()
        return 1
    monkeypatch.setattr(proctree, "kill_tree", kill_tree)
    return DockerRuntime("n1", "pods", client=FakeClient(api), max_workers=2), killed


def test_output_past_the_cap_is_read_and_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    rt, _ = runtime_with(FakeExecAPI([b"a" * 6000, b"b" * 6000, b"c" * 6000]), monkeypatch)
    code, output = asyncio.run(rt.exec("c1", ["yes"], max_output=10 * 1024))
    rt.close()
    assert code == 0 and output == "a" * 6000 + "b" * (10 * 1024 - 6000)


def test_a_timed_out_exec_is_killed_and_frees_its_slot(monkeypatch: pytest.MonkeyPatch) -> None:
    api = FakeExecAPI([b"started\n"], hang=True)
    rt, killed = runtime_with(api, monkeypatch)

    async def body() -> None:
        started = time.monotonic()
        with pytest.raises(ExecTimeout, match=r"timed out after 0\.2s"):
            await rt.exec("c1", ["sleep", "1000"], timeout=0.2)
        assert time.monotonic() - started < 2
        assert killed == [4242] and api.running == 0  # the reading thread has ended too
    asyncio.run(body())
    rt.close()


def test_execs_run_at_most_exec_slots_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    api = FakeExecAPI([b"x"], hang=True)
    rt, killed = runtime_with(api, monkeypatch)

    async def body() -> None:
        hanging = [asyncio.ensure_future(rt.exec("c1", ["hang"], timeout=0.5))
                   for _ in range(EXEC_SLOTS + 3)]
        results = await asyncio.gather(*hanging, return_exceptions=True)
        assert all(isinstance(r, ExecTimeout) for r in results)
        # never more than the bound ran; each either ran and was killed or never got a slot
        never_ran = sum("no exec slot" in str(r) for r in results)
        assert api.most == EXEC_SLOTS and len(killed) >= EXEC_SLOTS
        assert len(killed) + never_ran == EXEC_SLOTS + 3
    asyncio.run(body())
    rt.close()


def test_a_cancelled_exec_is_killed(monkeypatch: pytest.MonkeyPatch) -> None:
    api = FakeExecAPI([], hang=True)
    rt, killed = runtime_with(api, monkeypatch)

    async def body() -> None:
        task = asyncio.ensure_future(rt.exec("c1", ["hang"]))
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        for _ in range(50):
            if killed:
                break
            await asyncio.sleep(0.05)
        assert killed == [4242]
        await asyncio.gather(*rt._killing)  # the kill runs on after the cancel
    asyncio.run(body())
    rt.close()


def test_descendants_and_the_stat_line() -> None:
    parents = {10: 1, 11: 10, 12: 11, 13: 10, 20: 1}
    assert proctree.descendants(10, parents) == [10, 11, 13, 12]
    assert proctree.descendants(99, parents) == [99]
    assert proctree.parent_of("7 (sh -c (x) y) S 5 7 7 0 -1") == 5
    assert proctree.parent_of("garbage") is None


def test_kill_tree_kills_a_shell_and_what_it_started() -> None:
    shell = subprocess.Popen(["sh", "-c", "sleep 300 & sleep 300 & wait"])
    try:
        deadline = time.monotonic() + 5
        while len(proctree.descendants(shell.pid, proctree.read_parents())) < 3:
            assert time.monotonic() < deadline, "the shell did not fork its sleeps"
            time.sleep(0.02)
        tree = proctree.descendants(shell.pid, proctree.read_parents())
        cgroup = Path(f"/proc/{shell.pid}/cgroup").read_text()
        assert proctree.kill_tree(shell.pid, "not-this-container") == 0  # another's: never
        assert shell.poll() is None
        assert proctree.kill_tree(shell.pid, cgroup.strip().splitlines()[-1]) == 3
        assert shell.wait(5) == -9
        deadline = time.monotonic() + 5
        while any(_alive(pid) for pid in tree[1:]):
            assert time.monotonic() < deadline, f"left alive: {tree[1:]}"
            time.sleep(0.02)
    finally:
        if shell.poll() is None:
            shell.kill()
            shell.wait()


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


assert sys.platform.startswith("linux")
