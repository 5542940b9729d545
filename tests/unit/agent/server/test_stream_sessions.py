"""The agent's bound on interactive sessions: past STREAM_SESSIONS a new one is a 429,
and a session that ends gives its place back."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient, WebSocketDenialResponse

from agent.server import server
from agent.server.server import create_app
from tests.unit.agent.fakes import UnusedRuntime
from tests.unit.agent.server.reviewapi import ReviewAPI, reviewers

HEADERS = {"Authorization": "Bearer good"}


@pytest.fixture
def pod_port() -> Iterator[int]:
    """A loopback port standing in for a pod's: it accepts and holds connections."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                held.append(listener.accept()[0])
            except OSError:
                return
    threading.Thread(target=accept, daemon=True).start()
    yield listener.getsockname()[1]
    listener.close()
    for conn in held:
        conn.close()


def test_sessions_past_the_bound_are_refused_with_429(monkeypatch: pytest.MonkeyPatch,
                                                      pod_port: int) -> None:
    monkeypatch.setattr(server, "STREAM_SESSIONS", 1)

    async def finder(*_: Any) -> Any:
        raise AssertionError("no container is looked up for a port-forward")

    async def address(namespace: str, name: str) -> tuple[str, str]:
        return "127.0.0.1", "uid-1"

    app = create_app(finder, UnusedRuntime(), *reviewers(ReviewAPI()), "node1",
                     pod_address=address)
    url = f"/portForward/ns/p?ports={pod_port}"
    with TestClient(app) as client:
        with client.websocket_connect(url, ["v4.channel.k8s.io"], headers=HEADERS) as first:
            assert first.receive_bytes()[0] == 0  # the data channel's port prefix: open
            with pytest.raises(WebSocketDenialResponse) as refused, \
                    client.websocket_connect(url, ["v4.channel.k8s.io"], headers=HEADERS):
                pass
            assert refused.value.status_code == 429
            assert "too many interactive sessions on this node (1)" in refused.value.text
        with client.websocket_connect(url, ["v4.channel.k8s.io"], headers=HEADERS) as again:
            assert again.receive_bytes()[0] == 0  # the first one's place was given back
