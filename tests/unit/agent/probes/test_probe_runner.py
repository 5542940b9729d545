"""ProbeRunner: one run of an httpGet, tcpSocket or exec probe, and what it reports."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

from agent.probes.runner import (
    MAX_OUTPUT,
    ProbeError,
    ProbeRunner,
    Result,
    probe_headers,
    probe_url,
    resolve_port,
    timeout_seconds,
)
from agent.runtime.container import EXEC_OUTPUT_LIMIT, ContainerRuntimeError, ExecTimeout
from apimachinery.meta import Object
from tests.unit.agent.fakes import UnusedRuntime

CONTAINER: Object = {"name": "web", "ports": [{"name": "http", "containerPort": 8080},
                                              {"name": "admin", "containerPort": 9090}]}


def run(body: Callable[[], Awaitable[None]]) -> None:
    async def main() -> None:
        await body()
        leftover = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        assert leftover == [], f"leaked tasks: {leftover}"
    asyncio.run(main())


class FakeExec(UnusedRuntime):
    """The runtime's exec: scripted (exit code, output), a delay, or an error."""

    def __init__(self, code: int = 0, output: str = "", *, delay: float = 0,
                 error: str = "") -> None:
        self.code, self.output, self.delay, self.error = code, output, delay, error
        self.calls: list[tuple[str, list[str]]] = []
        self.limits: tuple[float | None, int] = (None, 0)

    async def exec(self, container_id: str, command: list[str], *,
                   timeout: float | None = None,
                   max_output: int = EXEC_OUTPUT_LIMIT) -> tuple[int, str]:
        self.calls.append((container_id, command))
        self.limits = (timeout, max_output)
        if self.error:
            raise ContainerRuntimeError(self.error)
        if timeout is not None and self.delay > timeout:  # as the runtime: kill, then say so
            await asyncio.sleep(timeout)
            raise ExecTimeout(f"command timed out after {timeout:g}s")
        await asyncio.sleep(self.delay)
        return self.code, self.output[:max_output]


def http_runner(handler: Callable[[httpx.Request], Awaitable[httpx.Response]]) -> ProbeRunner:
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return ProbeRunner(FakeExec(), client)


# -- ports, URLs, headers --------------------------------------------------------------

@pytest.mark.parametrize(("port", "expected"), [(80, 80), ("http", 8080), ("admin", 9090),
                                                ("8081", 8081)])
def test_a_port_is_a_number_or_a_container_ports_name(port: Any, expected: int) -> None:
    assert resolve_port(port, CONTAINER) == expected


@pytest.mark.parametrize(("port", "message"), [
    ("metrics", "port metrics not found in container web"),
    (0, "invalid port number: 0"), (70000, "invalid port number: 70000"),
    (None, "invalid port number: None")])
def test_a_bad_port_cannot_be_probed(port: Any, message: str) -> None:
    with pytest.raises(ProbeError, match=message):
        resolve_port(port, CONTAINER)


def test_the_url_has_the_scheme_host_port_and_path_with_its_query() -> None:
    assert probe_url({"path": "/healthz?full=1", "scheme": "HTTPS"}, "10.0.0.5", 8443) == \
        "https://10.0.0.5:8443/healthz?full=1"
    assert probe_url({}, "10.0.0.5", 80) == "http://10.0.0.5:80/"
    assert probe_url({"path": "ready"}, "fd00::5", 80) == "http://[fd00::5]:80/ready"


def test_the_probes_headers_replace_the_defaults_case_insensitively() -> None:
    headers = probe_headers({"httpHeaders": [{"name": "user-agent", "value": "mine"},
                                             {"name": "X-Probe", "value": "1"}]})
    assert headers == {"Accept": "*/*", "Connection": "close", "user-agent": "mine",
                       "X-Probe": "1"}
    assert probe_headers({})["User-Agent"].startswith("kube-probe/")


def test_timeout_defaults_to_one_second() -> None:
    assert timeout_seconds({}) == 1 and timeout_seconds({"timeoutSeconds": 0}) == 1
    assert timeout_seconds({"timeoutSeconds": 5}) == 5


# -- httpGet ---------------------------------------------------------------------------

@pytest.mark.parametrize(("code", "expected"), [
    (200, Result(True)), (204, Result(True)), (302, Result(True)),
    (399, Result(True)), (400, Result(False, "HTTP probe failed with statuscode: 400")),
    (503, Result(False, "HTTP probe failed with statuscode: 503"))])
def test_http_get_passes_from_200_up_to_400(code: int, expected: Result) -> None:
    seen: list[httpx.Request] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(code, headers={"Location": "http://elsewhere/"})

    async def body() -> None:
        runner = http_runner(handler)
        probe = {"httpGet": {"path": "/healthz", "port": "http", "scheme": "HTTP",
                             "httpHeaders": [{"name": "X-Check", "value": "yes"}]}}
        assert await runner.run(probe, CONTAINER, "c1", "10.0.0.5") == expected
        await runner.aclose()
    run(body)
    [request] = seen  # a redirect is not followed
    assert str(request.url) == "http://10.0.0.5:8080/healthz"
    assert request.headers["X-Check"] == "yes"
    assert request.headers["User-Agent"].startswith("kube-probe/")


def test_http_get_uses_the_probes_host_when_it_has_one() -> None:
    seen: list[str] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200)

    async def body() -> None:
        runner = http_runner(handler)
        await runner.run({"httpGet": {"host": "127.0.0.1", "port": 81}}, CONTAINER, "c1",
                         "10.0.0.5")
        await runner.aclose()
    run(body)
    assert seen == ["http://127.0.0.1:81/"]


def test_http_get_that_cannot_connect_fails_with_the_reason() -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    async def body() -> None:
        runner = http_runner(handler)
        result = await runner.run({"httpGet": {"port": 80}}, CONTAINER, "c1", "10.0.0.5")
        assert result == Result(False, 'Get "http://10.0.0.5:80/": connection refused')
        await runner.aclose()
    run(body)


def test_http_get_past_its_timeout_fails() -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(5)
        return httpx.Response(200)

    async def body() -> None:
        runner = http_runner(handler)
        result = await runner.http_get({"path": "/"}, "10.0.0.5", 80, 0.05)
        assert not result.success and "context deadline exceeded" in result.output
        await runner.aclose()
    run(body)


def test_http_get_without_a_pod_ip_cannot_run() -> None:
    async def body() -> None:
        runner = ProbeRunner(FakeExec())
        with pytest.raises(ProbeError, match="no IP"):
            await runner.run({"httpGet": {"port": 80}}, CONTAINER, "c1", "")
    run(body)


def test_every_http_probe_shares_one_client_until_closed() -> None:
    async def body() -> None:
        runner = ProbeRunner(FakeExec())
        client = runner._client()
        assert runner._client() is client
        await runner.aclose()
        assert client.is_closed
    run(body)


# -- tcpSocket -------------------------------------------------------------------------

@contextlib.asynccontextmanager
async def listening() -> AsyncIterator[int]:
    """A TCP listener on loopback; its port."""
    server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


def test_tcp_socket_passes_when_the_port_accepts_and_fails_when_it_refuses() -> None:
    async def body() -> None:
        runner = ProbeRunner(FakeExec())
        async with listening() as port:
            probe = {"tcpSocket": {"port": port}}
            assert await runner.run(probe, CONTAINER, "c1", "127.0.0.1") == Result(True)
        refused = await runner.run(probe, CONTAINER, "c1", "127.0.0.1")
        assert refused == Result(False, f"dial tcp 127.0.0.1:{port}: connect: connection refused")
    run(body)


def test_tcp_socket_past_its_timeout_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    async def hang(host: str, port: int) -> Any:
        await asyncio.sleep(5)

    async def body() -> None:
        monkeypatch.setattr(asyncio, "open_connection", hang)
        result = await ProbeRunner(FakeExec()).tcp_socket("10.0.0.5", 80, 0.05)
        assert result == Result(False, "dial tcp 10.0.0.5:80: i/o timeout")
    run(body)


# -- exec ------------------------------------------------------------------------------

def test_exec_passes_on_exit_code_zero_and_keeps_the_output() -> None:
    async def body() -> None:
        runtime = FakeExec(0, "fine\n")
        runner = ProbeRunner(runtime)
        probe = {"exec": {"command": ["cat", "/tmp/healthy"]}}
        assert await runner.run(probe, CONTAINER, "c1", "") == Result(True, "fine\n")
        assert runtime.calls == [("c1", ["cat", "/tmp/healthy"])]
    run(body)


def test_exec_fails_on_another_exit_code_with_at_most_10k_of_output() -> None:
    async def body() -> None:
        runner = ProbeRunner(FakeExec(1, "x" * (MAX_OUTPUT + 5)))
        result = await runner.run({"exec": {"command": ["false"]}}, CONTAINER, "c1", "")
        assert not result.success and len(result.output) == MAX_OUTPUT
    run(body)


def test_exec_past_its_timeout_fails() -> None:
    async def body() -> None:
        fake = FakeExec(delay=5)
        result = await ProbeRunner(fake).exec("c1", {"command": ["sleep", "9"]}, 0.05)
        assert result == Result(False, 'command "sleep 9" timed out')
        assert fake.limits == (0.05, MAX_OUTPUT)  # the runtime kills it and caps its output
    run(body)


def test_exec_in_a_container_the_runtime_cannot_reach_is_an_error() -> None:
    async def body() -> None:
        runner = ProbeRunner(FakeExec(error="container c1 is not running"))
        with pytest.raises(ProbeError, match="is not running"):
            await runner.run({"exec": {"command": ["true"]}}, CONTAINER, "c1", "")
    run(body)


@pytest.mark.parametrize(("probe", "ip"), [
    ({}, "10.0.0.5"), ({"exec": {"command": []}}, "10.0.0.5"),
    ({"grpc": {"port": 9000}}, ""),  # no pod IP yet
])
def test_a_probe_without_a_handler_it_can_run_is_an_error(probe: Object, ip: str) -> None:
    async def body() -> None:
        with pytest.raises(ProbeError):
            await ProbeRunner(FakeExec()).run(probe, CONTAINER, "c1", ip)
    run(body)
