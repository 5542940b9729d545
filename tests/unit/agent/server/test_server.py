"""Callers named (tokens reviewed and cached, client certificates), and the routes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from agent.runtime.container import EXEC_OUTPUT_LIMIT, ContainerRecord, State
from agent.server import server as server_module
from agent.server.auth import Authenticated, Authenticator, User, Verdict
from agent.server.server import capped, create_app
from agent.server.unavailable import Unavailable
from apimachinery.clock import FakeClock
from apimachinery.pki import make_ca
from apimachinery.usercert import make_client_cert
from tests.unit.agent.fakes import UnusedRuntime
from tests.unit.agent.server.reviewapi import ReviewAPI, reviewers


def test_tokens_are_reviewed_by_the_apiserver_and_cached() -> None:
    api, clock = ReviewAPI(), FakeClock()
    authn = Authenticator(api, clock)  # type: ignore[arg-type]

    async def body() -> None:
        good = await authn.authenticate("Bearer good")
        assert good == Authenticated(Verdict.ALLOWED,
                                     User("good", groups=("team", "system:authenticated")))
        assert await authn.authenticate("Bearer good") == good
        assert (await authn.authenticate("Bearer bad")).verdict is Verdict.DENIED
        assert (await authn.authenticate("Bearer bad")).verdict is Verdict.DENIED
        assert (await authn.authenticate(None)).verdict is Verdict.DENIED
        assert (await authn.authenticate("Basic Zm9vOmJhcg==")).verdict is Verdict.DENIED
        assert api.tokens == ["good", "bad"]
        clock.step(6)  # negative answers expire after 5 s, positive ones after 60 s
        assert (await authn.authenticate("Bearer bad")).verdict is Verdict.DENIED
        assert await authn.authenticate("Bearer good") == good
        assert api.asked == 3
        api.down = True  # an apiserver that cannot answer: refused, and not cached
        assert (await authn.authenticate("Bearer good-new")).verdict is Verdict.DENIED
        api.down = False
        assert (await authn.authenticate("Bearer good-new")).verdict is Verdict.ALLOWED
    asyncio.run(body())


def test_a_verified_client_certificate_names_the_user_without_asking() -> None:
    ca, ca_key = make_ca()
    cert, _ = make_client_cert(ca, ca_key, "kube-apiserver-kubelet-client", ("a", "b"))
    api = ReviewAPI()
    with_ca = Authenticator(api, FakeClock())  # type: ignore[arg-type]
    without_ca = Authenticator(api, FakeClock(), certificates=False)  # type: ignore[arg-type]

    async def body() -> None:
        caller = await with_ca.authenticate(None, cert.decode())
        assert caller.user == User("kube-apiserver-kubelet-client",
                                   groups=("a", "b", "system:authenticated"))
        # no --client-ca-file: a certificate names no one, the token decides
        assert (await without_ca.authenticate(None, cert.decode())).verdict is Verdict.DENIED
        assert api.asked == 0
    asyncio.run(body())


class FakeStream:
    def __init__(self) -> None:
        self.closed = False

    async def chunks(self) -> AsyncIterator[bytes]:
        yield b"line 1\n"
        yield b"line 2\n"

    def close(self) -> None:
        self.closed = True


class FakeServerRuntime(UnusedRuntime):
    def __init__(self) -> None:
        self.streams: list[tuple[str, dict[str, Any]]] = []

    def stream_logs(self, container_id: str, *, follow: bool, tail: int | None,
                    timestamps: bool, since: datetime | None = None) -> FakeStream:
        self.streams.append((container_id, {"follow": follow, "tail": tail,
                                            "timestamps": timestamps, "since": since}))
        return FakeStream()

    async def exec(self, container_id: str, command: list[str], *,
                   timeout: float | None = None,
                   max_output: int = EXEC_OUTPUT_LIMIT) -> tuple[int, str]:
        return 3, f"ran {' '.join(command)} in {container_id}\n"


async def finder(namespace: str, pod: str, container: str, previous: bool
                 ) -> ContainerRecord | Unavailable:
    if (namespace, pod) != ("ns", "p"):
        return Unavailable(f'pods "{pod}" not found', 404)
    if container != "a":
        return Unavailable(f'previous terminated container "{container}" in pod "p" not found')
    return ContainerRecord(id="prev" if previous else "cur", name="a", pod_uid="u",
                           state=State.RUNNING)


def test_server_routes() -> None:
    runtime = FakeServerRuntime()
    app = create_app(finder, runtime, *reviewers(ReviewAPI()), "node1")
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
                                                 "timestamps": True, "since": None})]
            assert (await http.get("/containerLogs/ns/q/a", headers=good)).status_code == 404
            no_previous = await http.get("/containerLogs/ns/p/b?previous=true", headers=good)
            assert no_previous.status_code == 400
            assert no_previous.text.startswith('previous terminated container "b"')
            bad = await http.get("/containerLogs/ns/p/a?tailLines=x", headers=good)
            assert (bad.status_code, bad.text) == (
                400, 'tailLines: Invalid value: "x": must be an integer\n')
            before = datetime.now(UTC)
            await http.get("/containerLogs/ns/p/a?sinceSeconds=10", headers=good)
            since = runtime.streams[-1][1]["since"]
            assert before - timedelta(seconds=11) < since <= datetime.now(UTC) - timedelta(
                seconds=10)
            capped_logs = await http.get("/containerLogs/ns/p/a?limitBytes=4", headers=good)
            assert capped_logs.text == "line"
            ran = await http.post("/exec/ns/p/a", json={"command": ["echo", "hi"]},
                                  headers=good)
            assert ran.json() == {"exitCode": 3, "output": "ran echo hi in cur\n"}
            assert (await http.post("/exec/ns/p/a", json={"command": "echo"}, headers=good)
                    ).status_code == 400
    asyncio.run(body())


@pytest.mark.parametrize(("limit", "want"), [
    (None, [b"abc", b"def", b"gh"]), (4, [b"abc", b"d"]), (3, [b"abc"]),
    (100, [b"abc", b"def", b"gh"]),
])
def test_capped_cuts_after_limit_bytes(limit: int | None, want: list[bytes]) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for chunk in (b"abc", b"def", b"gh"):
            yield chunk

    async def collect() -> list[bytes]:
        return [c async for c in capped(chunks(), limit)]

    assert asyncio.run(collect()) == want


class HangingExecRuntime(UnusedRuntime):
    """An exec that runs until cancelled (the real runtime kills the command then)."""

    def __init__(self) -> None:
        self.started = 0
        self.cancelled = 0

    async def exec(self, container_id: str, command: list[str], *,
                   timeout: float | None = None,
                   max_output: int = EXEC_OUTPUT_LIMIT) -> tuple[int, str]:
        self.started += 1
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        return 0, ""


def test_api_execs_are_bounded_and_a_gone_caller_cancels_its_exec(
        monkeypatch: Any) -> None:
    monkeypatch.setattr(server_module, "DISCONNECT_POLL", 0.05)
    runtime = HangingExecRuntime()
    app = create_app(finder, runtime, *reviewers(ReviewAPI()), "node1")
    good = {"Authorization": "Bearer good"}

    async def body() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://agent") as http:
            calls = [asyncio.ensure_future(http.post(
                "/exec/ns/p/a", json={"command": ["sleep", "1d"]}, headers=good))
                for _ in range(server_module.API_EXECS_IN_FLIGHT)]
            while runtime.started < server_module.API_EXECS_IN_FLIGHT:
                await asyncio.sleep(0.01)
            over = await http.post("/exec/ns/p/a", json={"command": ["true"]}, headers=good)
            assert (over.status_code, over.text) == (429, "too many execs in flight on this "
                                                          "node\n")
            for call in calls:  # the callers hang up: their execs are cancelled (killed)
                call.cancel()
            await asyncio.gather(*calls, return_exceptions=True)
            deadline = asyncio.get_running_loop().time() + 5
            while runtime.cancelled < server_module.API_EXECS_IN_FLIGHT:
                assert asyncio.get_running_loop().time() < deadline, runtime.cancelled
                await asyncio.sleep(0.02)
    asyncio.run(body())
