"""The gRPC probe against a real gRPC server in this process (grpcio's), as the kubelet's."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from concurrent import futures
from typing import Any

import grpc
import pytest

from agent.probes.grpc_health import check, decode_status, encode_request
from agent.probes.runner import ProbeRunner, Result
from tests.unit.agent.fakes import UnusedRuntime


class Health(grpc.GenericRpcHandler):
    """grpc.health.v1.Health/Check answering from a table, bytes in and out."""

    def __init__(self) -> None:
        self.statuses = {"": 1, "db": 2}
        self.asked: list[bytes] = []

    def service(self, details: Any) -> Any:
        if details.method != "/grpc.health.v1.Health/Check":
            return None

        def answer(request: bytes, context: Any) -> bytes:
            self.asked.append(request)
            service = request[2:].decode() if request else ""
            if service not in self.statuses:
                context.abort(grpc.StatusCode.NOT_FOUND, "unknown service")
            return b"\x08" + bytes([self.statuses[service]])
        return grpc.unary_unary_rpc_method_handler(answer)


@pytest.fixture
def server() -> Iterator[tuple[int, Health]]:
    health = Health()
    srv = grpc.server(futures.ThreadPoolExecutor(max_workers=2), handlers=[health])
    port = srv.add_insecure_port("127.0.0.1:0")
    srv.start()
    try:
        yield port, health
    finally:
        srv.stop(None)


def test_the_messages_are_encoded_as_grpc_health_v1() -> None:
    assert encode_request("") == b""
    assert encode_request("db") == b"\x0a\x02db"
    assert decode_status(b"\x08\x01") == 1 and decode_status(b"") == 0
    assert decode_status(b"\x12\x01x\x08\x02") == 2  # an unknown field skipped


def test_serving_passes_and_not_serving_fails(server: tuple[int, Health]) -> None:
    port, health = server
    assert check("127.0.0.1", port, "", 2) == (True, "service is serving")
    assert check("127.0.0.1", port, "db", 2) == (
        False, 'service unhealthy (responded with "NOT_SERVING")')
    assert health.asked == [b"", b"\x0a\x02db"]
    passed, said = check("127.0.0.1", port, "nope", 2)
    assert not passed and said.startswith("error: health rpc probe failed: rpc error: "
                                          "code = NOT_FOUND desc = unknown service")


def test_no_server_is_a_connect_timeout() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert check("127.0.0.1", port, "", 0.3) == (
        False, f'timeout: failed to connect service "127.0.0.1:{port}" within 0.3s: '
               "context deadline exceeded")


def test_a_server_without_the_health_service(server: tuple[int, Health]) -> None:
    port, health = server
    health.service = lambda details: None  # type: ignore[method-assign]
    passed, said = check("127.0.0.1", port, "", 2)
    assert not passed and said.startswith("error: this server does not implement the grpc "
                                          "health protocol (grpc.health.v1.Health)")


def test_the_runner_probes_the_pods_ip(server: tuple[int, Health]) -> None:
    port, _ = server
    runner = ProbeRunner(UnusedRuntime())  # type: ignore[arg-type]
    probe = {"grpc": {"port": port}, "timeoutSeconds": 2}
    result = asyncio.run(runner.run(probe, {"name": "c"}, "cid", "127.0.0.1"))
    assert result == Result(True, "service is serving")
