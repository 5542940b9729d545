"""Node status, the Lease's time format, token checks with their cache, the server's routes,
and how a `docker inspect` document becomes a ContainerRecord."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx

from agent.auth import TokenAuthenticator
from agent.container import ContainerRecord, State
from agent.lease import micro_time
from agent.node_status import HostFacts, memory_kib, node_status
from agent.runtime import record_from_inspect
from agent.server import create_app
from apimachinery import errors
from apimachinery.clock import FakeClock
from tests.unit.agent.helpers import NOW

FACTS = HostFacts(hostname="host1", cpus=4, memory_kib=8_000_000, ephemeral_bytes=10**11,
                  os_image="Debian GNU/Linux 12 (bookworm)", kernel_version="6.1.0",
                  architecture="amd64")


def test_node_status() -> None:
    status = node_status(FACTS, node_ip="192.0.2.10", port=10250,
                         runtime_version="20.10.24", now=NOW)
    assert status["capacity"] == {"cpu": "4", "memory": "8000000Ki",
                                  "ephemeral-storage": str(10**11), "pods": "110"}
    assert status["allocatable"] == status["capacity"]
    assert status["addresses"] == [{"type": "InternalIP", "address": "192.0.2.10"},
                                   {"type": "Hostname", "address": "host1"}]
    assert status["daemonEndpoints"] == {"kubeletEndpoint": {"Port": 10250}}
    info = status["nodeInfo"]
    assert info["containerRuntimeVersion"] == "docker://20.10.24"
    assert info["kubeletVersion"] == "v1.32.0-schooner"
    ready = {c["type"]: c for c in status["conditions"]}["Ready"]
    assert (ready["status"], ready["reason"]) == ("True", "KubeletReady")
    later = node_status(FACTS, node_ip="192.0.2.10", port=10250, runtime_version="20.10.24",
                        now=NOW.replace(minute=5), old=status)
    again = {c["type"]: c for c in later["conditions"]}["Ready"]
    assert again["lastTransitionTime"] == ready["lastTransitionTime"]
    assert again["lastHeartbeatTime"] == "2024-01-01T12:05:00Z"


def test_meminfo_and_micro_time() -> None:
    assert memory_kib("MemTotal:       24683656 kB\nMemFree: 1 kB\n") == 24683656
    assert micro_time(FakeClock(wall=NOW)) == "2024-01-01T12:00:00.000000Z"


class FakeAPI:
    def __init__(self) -> None:
        self.asked: list[str] = []

    async def request(self, method: str, path: str, *, headers: dict[str, str]) -> Any:
        self.asked.append(headers["Authorization"])
        if headers["Authorization"] != "Bearer good":
            raise errors.Unauthorized("Unauthorized")
        return None


def test_tokens_are_checked_against_the_apiserver_and_cached() -> None:
    api, clock = FakeAPI(), FakeClock()
    authn = TokenAuthenticator(api, clock)  # type: ignore[arg-type]

    async def body() -> None:
        assert await authn.authenticate("Bearer good")
        assert await authn.authenticate("Bearer good")
        assert not await authn.authenticate("Bearer bad")
        assert not await authn.authenticate("Bearer bad")
        assert not await authn.authenticate(None)
        assert not await authn.authenticate("Basic Zm9vOmJhcg==")
        assert len(api.asked) == 2
        clock.step(6)  # negative answers expire after 5 s, positive ones after 60 s
        assert not await authn.authenticate("Bearer bad")
        assert await authn.authenticate("Bearer good")
        assert len(api.asked) == 3
    asyncio.run(body())


class FakeStream:
    def __init__(self) -> None:
        self.closed = False

    async def chunks(self) -> AsyncIterator[bytes]:
        yield b"line 1\n"
        yield b"line 2\n"

    def close(self) -> None:
        self.closed = True


class FakeServerRuntime:
    def __init__(self) -> None:
        self.streams: list[tuple[str, dict[str, Any]]] = []

    def stream_logs(self, container_id: str, **options: Any) -> FakeStream:
        self.streams.append((container_id, options))
        return FakeStream()

    async def exec(self, container_id: str, command: list[str]) -> tuple[int, str]:
        return 3, f"ran {' '.join(command)} in {container_id}\n"


async def finder(namespace: str, pod: str, container: str, previous: bool
                 ) -> ContainerRecord | str:
    if (namespace, pod, container) != ("ns", "p", "a"):
        return f'pods "{pod}" not found'
    return ContainerRecord(id="prev" if previous else "cur", name="a", pod_uid="u",
                           state=State.RUNNING)


def test_server_routes() -> None:
    runtime, api = FakeServerRuntime(), FakeAPI()
    app = create_app(finder, runtime, TokenAuthenticator(api, FakeClock()))  # type: ignore[arg-type]
    good = {"Authorization": "Bearer good"}

    async def body() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://agent") as http:
            assert (await http.get("/healthz")).text == "ok"
            assert (await http.get("/containerLogs/ns/p/a")).status_code == 401
            assert (await http.get("/containerLogs/ns/p/a", headers={
                "Authorization": "Bearer x"})).status_code == 401
            logs = await http.get(
                "/containerLogs/ns/p/a?tailLines=5&timestamps=true&previous=true", headers=good)
            assert logs.text == "line 1\nline 2\n"
            assert logs.headers["content-type"].startswith("text/plain")
            assert runtime.streams == [("prev", {"follow": False, "tail": 5,
                                                 "timestamps": True})]
            assert (await http.get("/containerLogs/ns/q/a", headers=good)).status_code == 404
            assert (await http.get("/containerLogs/ns/p/a?tailLines=x", headers=good)
                    ).status_code == 400
            ran = await http.post("/exec/ns/p/a", json={"command": ["echo", "hi"]},
                                  headers=good)
            assert ran.json() == {"exitCode": 3, "output": "ran echo hi in cur\n"}
            assert (await http.post("/exec/ns/p/a", json={"command": "echo"}, headers=good)
                    ).status_code == 400
    asyncio.run(body())


def test_record_from_inspect() -> None:
    data = {"Id": "abc", "Created": "2024-01-01T11:00:00.123456789Z", "Image": "sha256:i",
            "Config": {"Image": "schooner/busybox:latest", "Labels": {
                "schooner.pod.uid": "u", "schooner.pod.name": "p", "schooner.pod.namespace": "ns",
                "schooner.container.name": "a", "schooner.container.restart-count": "2",
                "schooner.container.hash": "h"}},
            "State": {"Status": "exited", "ExitCode": 137, "OOMKilled": True, "Error": "",
                      "StartedAt": "2024-01-01T11:00:01Z",
                      "FinishedAt": "2024-01-01T11:00:02.5Z"},
            "NetworkSettings": {"Networks": {"pods": {"IPAddress": "10.0.0.9"}}}}
    record = record_from_inspect(data, "pods")
    assert (record.name, record.pod_uid, record.restart_count) == ("a", "u", 2)
    assert record.state is State.EXITED and record.dead and record.oom_killed
    assert (record.exit_code, record.ip, record.spec_hash) == (137, "10.0.0.9", "h")
    assert record.finished_at is not None and record.finished_at.microsecond == 500000
    never = record_from_inspect({**data, "State": {"Status": "created",
                                                   "FinishedAt": "0001-01-01T00:00:00Z"}},
                                "pods")
    assert never.pending and never.finished_at is None


def test_node_status_reports_claim_volumes_as_volumes_attached() -> None:
    from datetime import UTC, datetime

    now = datetime(2026, 1, 1, tzinfo=UTC)
    status = node_status(FACTS, node_ip="192.0.2.10", port=10250, runtime_version="20.10.24",
                         now=now, claims=[("db", "data-pg-0", "schooner-pvc-db-data-pg-0")])
    assert status["volumesAttached"] == [{"name": "schooner.io/pvc/db/data-pg-0",
                                          "devicePath": "schooner-pvc-db-data-pg-0"}]
    # Written even when empty, so a merge patch clears what the node no longer holds.
    empty = node_status(FACTS, node_ip="192.0.2.10", port=10250, runtime_version="20.10.24",
                        now=now, claims=[])
    assert empty["volumesAttached"] == []
    unknown = node_status(FACTS, node_ip="192.0.2.10", port=10250, runtime_version="20.10.24",
                          now=now)
    assert "volumesAttached" not in unknown
