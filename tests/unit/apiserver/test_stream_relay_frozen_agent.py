"""An agent that stops answering mid-stream (a frozen or partitioned node): the
apiserver's pings to it go unanswered and the caller's stream ends, instead of
hanging for as long as the caller waits."""

from __future__ import annotations

import base64
import hashlib
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.testclient import TestClient
from starlette.websockets import WebSocket

from apimachinery.pki import make_ca, make_serving_cert
from apiserver.kinds.core.pod import streaming
from apiserver.kubeletclient import KubeletClientConfig

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455's accept-key suffix


@pytest.fixture
def frozen_agent(tmp_path: Path) -> Iterator[int]:
    """A TLS port that accepts one WebSocket upgrade, then never reads or writes again."""
    ca, ca_key = make_ca()
    cert, key = make_serving_cert(ca, ca_key, hosts=["127.0.0.1"])
    (tmp_path / "tls.crt").write_bytes(cert)
    (tmp_path / "tls.key").write_bytes(key)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "tls.crt", tmp_path / "tls.key")
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []

    def serve() -> None:
        try:
            conn = context.wrap_socket(listener.accept()[0], server_side=True)
        except OSError:
            return
        held.append(conn)
        request = b""
        while b"\r\n\r\n" not in request:
            request += conn.recv(4096)
        key = next(line.split(b":", 1)[1].strip() for line in request.split(b"\r\n")
                   if line.lower().startswith(b"sec-websocket-key:"))
        accept = base64.b64encode(hashlib.sha1(key + GUID.encode()).digest())
        conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                     b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept +
                     b"\r\nSec-WebSocket-Protocol: v5.channel.k8s.io\r\n\r\n")
        # and now silence: no pong, no data, no close
    threading.Thread(target=serve, daemon=True).start()
    yield listener.getsockname()[1]
    listener.close()
    for conn in held:
        conn.close()


@pytest.mark.timeout(30)  # without the pings this would wait forever: fail instead
def test_a_silent_agent_ends_the_callers_stream(monkeypatch: pytest.MonkeyPatch,
                                                frozen_agent: int) -> None:
    monkeypatch.setattr(streaming, "PING_INTERVAL", 0.2)
    monkeypatch.setattr(streaming, "PING_TIMEOUT", 0.2)
    monkeypatch.setattr(streaming, "CLOSE_TIMEOUT", 0.2)
    relay = streaming.AgentStreams(None)  # type: ignore[arg-type]

    async def exec_route(websocket: WebSocket) -> None:
        call = SimpleNamespace(accepted=lambda: None)
        await relay._relay(websocket, call, KubeletClientConfig(),  # type: ignore[arg-type]
                           "v5.channel.k8s.io",
                           f"https://127.0.0.1:{frozen_agent}/exec/ns/p/c?command=sh")

    app = Starlette(routes=[WebSocketRoute("/exec", exec_route)])
    with TestClient(app) as client, client.websocket_connect(
            "/exec", ["v5.channel.k8s.io"]) as caller:
        started = time.monotonic()
        assert caller.receive()["type"] == "websocket.close"  # not a hang
        assert time.monotonic() - started < 5
