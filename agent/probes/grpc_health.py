"""The gRPC probe: one `grpc.health.v1.Health/Check` call (kubelet's pkg/probe/grpc).

The kubelet dials `podIP:port` without TLS, blocking until connected within
`timeoutSeconds`, and asks the standard health service about `service` (empty: the
server as a whole). `SERVING` passes; anything else fails with the kubelet's words:
`service unhealthy (responded with "NOT_SERVING")`, `timeout: failed to connect service
"10.0.0.7:9000" within 1s`, `error: this server does not implement the grpc health
protocol (grpc.health.v1.Health): ...`, `timeout: health rpc did not complete within 1s`,
`error: health rpc probe failed: ...`.

The two messages are tiny, so they are written and read here by hand (field 1 of each:
the service name, a string; the status, an enum) rather than from generated code. The
blocking gRPC client runs on a worker thread, never on the agent's event loop.
"""

from __future__ import annotations

import asyncio
from typing import Any

import grpc

METHOD = "/grpc.health.v1.Health/Check"
USER_AGENT = "kube-probe/schooner"
STATUSES = {0: "UNKNOWN", 1: "SERVING", 2: "NOT_SERVING", 3: "SERVICE_UNKNOWN"}


def encode_request(service: str) -> bytes:
    """HealthCheckRequest{service = 1}; an empty service is an empty message."""
    raw = service.encode()
    return b"\x0a" + _varint(len(raw)) + raw if raw else b""


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def decode_status(raw: bytes) -> int:
    """HealthCheckResponse's `status` (field 1, a varint); 0 (UNKNOWN) when absent."""
    i, status = 0, 0
    while i < len(raw):
        key, i = _read_varint(raw, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _read_varint(raw, i)
            if number == 1:
                status = value
        elif wire == 2:
            length, i = _read_varint(raw, i)
            i += length
        elif wire in (1, 5):
            i += 8 if wire == 1 else 4
        else:
            raise ValueError(f"unexpected wire type {wire}")
    return status


def _read_varint(raw: bytes, i: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        if i >= len(raw):
            raise ValueError("truncated varint")
        byte = raw[i]
        value |= (byte & 0x7F) << shift
        i, shift = i + 1, shift + 7
        if not byte & 0x80:
            return value, i


def _go_duration(seconds: float) -> str:
    return f"{seconds:g}s"


def check(host: str, port: int, service: str, timeout: float) -> tuple[bool, str]:
    """One health check, blocking (run it on a thread): (passed, what it said)."""
    address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    channel: Any = grpc.insecure_channel(address, options=[
        ("grpc.primary_user_agent", USER_AGENT)])
    try:
        try:
            grpc.channel_ready_future(channel).result(timeout=timeout)
        except grpc.FutureTimeoutError:
            return (False, f'timeout: failed to connect service "{address}" within '
                                 f"{_go_duration(timeout)}: context deadline exceeded")
        call = channel.unary_unary(METHOD)
        try:
            raw = call(encode_request(service), timeout=timeout)
        except grpc.RpcError as exc:
            return (False, _rpc_failure(exc, timeout))
        try:
            status = decode_status(raw)
        except ValueError as exc:
            return (False, f"error: health rpc probe failed: {exc}")
        if status != 1:
            return (False, f'service unhealthy (responded with '
                                 f'"{STATUSES.get(status, str(status))}")')
        return (True, "service is serving")
    finally:
        channel.close()


def _rpc_failure(exc: Any, timeout: float) -> str:
    code = exc.code() if hasattr(exc, "code") else None
    details = exc.details() if hasattr(exc, "details") else str(exc)
    if code == grpc.StatusCode.UNIMPLEMENTED:
        return ("error: this server does not implement the grpc health protocol "
                f"(grpc.health.v1.Health): {details}")
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return f"timeout: health rpc did not complete within {_go_duration(timeout)}"
    return f"error: health rpc probe failed: rpc error: code = {getattr(code, 'name', code)} " \
           f"desc = {details}"


async def grpc_check(host: str, port: int, service: str, timeout: float) -> tuple[bool, str]:
    """`check` on a worker thread."""
    return await asyncio.to_thread(check, host, port, service, timeout)


__all__ = ["check", "decode_status", "encode_request", "grpc_check"]
