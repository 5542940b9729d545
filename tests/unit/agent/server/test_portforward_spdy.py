"""The agent's SPDY port-forward (kubectl's session, relayed whole by the apiserver),
driven by a client made of SPDY frames over a fake WebSocket, against a real loopback
socket standing in for the pod: a connection both ways with a half-close, a bad port,
a refused dial in the kubelet's words, and the pod going away under open connections."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from agent.server import portforward
from agent.server.portforward import PodTarget, SpdyForwarder
from agent.server.unavailable import Unavailable
from apimachinery.spdy import frames as f


class Client:
    """kubectl's end: SPDY frames in WebSocket messages, both ways."""

    def __init__(self) -> None:
        self.codec = f.HeaderCodec()
        self.reader = f.FrameReader(f.HeaderCodec())
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.frames: list[f.Frame] = []
        self.arrived = asyncio.Event()
        self.closed = False

    # the WebSocket the forwarder sees
    async def receive(self) -> dict[str, Any]:
        return await self.inbox.get()

    async def send_bytes(self, data: bytes) -> None:
        self.reader.feed(data)
        self.frames += list(self.reader.frames())
        self.arrived.set()

    async def close(self, code: int = 1000) -> None:
        self.closed = True

    # the client's own calls
    def send(self, frame: f.Frame) -> None:
        self.inbox.put_nowait({"type": "websocket.receive", "bytes": f.encode(frame, self.codec)})

    def open_pair(self, request: int, port: str) -> None:
        """kubectl's error stream (id 4r+1) and data stream (4r+3) for one connection."""
        base = {"port": port, "requestid": str(request)}
        self.send(f.SynStream(4 * request + 1, {**base, "streamtype": "error"}))
        self.send(f.SynStream(4 * request + 3, {**base, "streamtype": "data"}))

    def data(self, stream_id: int) -> bytes:
        return b"".join(fr.data for fr in self.frames
                        if isinstance(fr, f.DataFrame) and fr.stream_id == stream_id)

    def finished(self, stream_id: int) -> bool:
        return any(isinstance(fr, f.DataFrame) and fr.stream_id == stream_id and fr.fin
                   for fr in self.frames)

    async def until(self, condition: Any, timeout: float = 5.0) -> None:
        async def wait() -> None:
            while not condition():
                self.arrived.clear()
                await self.arrived.wait()
        await asyncio.wait_for(wait(), timeout)


@contextlib.asynccontextmanager
async def counting_pod() -> AsyncIterator[int]:
    """A port that reads to its input's end, then answers with how much it read."""
    writers: list[asyncio.StreamWriter] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        data = await reader.read()
        writer.write(f"{len(data)} bytes".encode())
        await writer.drain()
        writer.close()
    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        for writer in writers:  # a connection still open (the pod that stopped): closed
            writer.close()      # here, not by the garbage collector after the loop ends


def forwarder(client: Client, running: list[bool]) -> SpdyForwarder:
    async def address(namespace: str, name: str) -> tuple[str, str] | Unavailable:
        if running[0]:
            return "127.0.0.1", "uid-1"
        return Unavailable(f'pod "{name}" is not running')
    target = PodTarget("ns", "web", "127.0.0.1", "uid-1", address)
    return SpdyForwarder(client, target)  # type: ignore[arg-type]


def test_a_connection_carries_bytes_both_ways_and_the_half_close() -> None:
    async def scenario() -> None:
        client, running = Client(), [True]
        async with counting_pod() as port:
            run = asyncio.create_task(forwarder(client, running).run())
            client.open_pair(0, str(port))
            client.send(f.DataFrame(3, b"hello"))
            client.send(f.DataFrame(3, b"", fin=True))  # kubectl's local side is done
            await client.until(lambda: client.finished(3))
            assert client.data(3) == b"5 bytes"  # the pod saw the end of its input
            assert client.data(1) == b""  # nothing went wrong
            assert [fr.stream_id for fr in client.frames if isinstance(fr, f.SynReply)] \
                == [1, 3]
            client.inbox.put_nowait({"type": "websocket.disconnect"})
            await asyncio.wait_for(run, 5)
        assert client.closed
    asyncio.run(scenario())


def test_a_bad_port_and_a_refused_dial_are_said_on_the_error_stream() -> None:
    async def scenario() -> None:
        client, running = Client(), [True]
        async with counting_pod() as port:
            pass  # closed again: nothing listens on `port` now
        run = asyncio.create_task(forwarder(client, running).run())
        client.open_pair(0, "http")
        client.open_pair(1, str(port))
        await client.until(lambda: client.finished(1) and client.finished(5))
        assert client.data(1) == b"invalid port 'http'"
        assert client.data(5).decode() == (
            f"error forwarding port {port} to pod ns/web, uid uid-1: dial tcp "
            f"127.0.0.1:{port}: connect: connection refused")
        client.inbox.put_nowait({"type": "websocket.disconnect"})
        await asyncio.wait_for(run, 5)
    asyncio.run(scenario())


def test_a_pod_that_stops_ends_open_connections_with_the_reason(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(portforward, "LIVENESS_INTERVAL", 0.05)

    async def scenario() -> None:
        client, running = Client(), [True]
        async with counting_pod() as port:
            run = asyncio.create_task(forwarder(client, running).run())
            client.open_pair(0, str(port))
            client.send(f.DataFrame(3, b"half"))  # open: the pod waits for more
            await asyncio.sleep(0.2)
            running[0] = False
            await asyncio.wait_for(run, 5)  # the session ends by itself
        assert client.data(1).decode() == (f"error forwarding port {port} to pod ns/web, "
                                           'uid uid-1: pod "web" is not running')
        assert any(isinstance(fr, f.GoAway) for fr in client.frames)
        assert client.closed
    asyncio.run(scenario())


def test_halves_that_never_pair_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """A client that opens error streams and never their data streams holds at most
    MAX_UNPAIRED dials to the pod; past that, and for a second stream of the same kind,
    the stream is reset."""
    monkeypatch.setattr(portforward, "MAX_UNPAIRED", 2)

    async def scenario() -> None:
        client, running = Client(), [True]
        async with counting_pod() as port:
            forward = forwarder(client, running)
            run = asyncio.create_task(forward.run())
            for request in range(3):
                client.send(f.SynStream(4 * request + 1, {
                    "port": str(port), "requestid": str(request), "streamtype": "error"}))
            client.send(f.SynStream(13, {"port": str(port), "requestid": "0",
                                         "streamtype": "error"}))
            await client.until(lambda: len([fr for fr in client.frames
                                            if isinstance(fr, f.RstStream)]) == 2)
            assert [fr.stream_id for fr in client.frames if isinstance(fr, f.RstStream)] \
                == [9, 13]
            assert sorted(forward.dials) == ["0", "1"]
            client.inbox.put_nowait({"type": "websocket.disconnect"})
            await asyncio.wait_for(run, 5)
            assert all(task.done() for _, task in forward.dials.values())
    asyncio.run(scenario())
