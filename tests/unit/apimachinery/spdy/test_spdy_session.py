"""The server side of a SPDY/3.1 session, driven by a client made of the same frames:
replies, pings, data both ways, flow control both ways, resets and GOAWAY."""

from __future__ import annotations

import asyncio

from apimachinery.spdy import frames as f
from apimachinery.spdy.session import MAX_DATA_FRAME, Session, Stream, StreamReset


class Peer:
    """The client end: encodes what it sends, decodes what the session sent."""

    def __init__(self) -> None:
        self.codec = f.HeaderCodec()
        self.reader = f.FrameReader(f.HeaderCodec())
        self.received: list[f.Frame] = []
        self.streams: asyncio.Queue[Stream] = asyncio.Queue()

        async def on_stream(stream: Stream) -> None:
            await self.streams.put(stream)

        async def send(data: bytes) -> None:
            self.reader.feed(data)
            self.received += list(self.reader.frames())

        self.session = Session(send, on_stream)

    async def send(self, frame: f.Frame) -> None:
        await self.session.receive(f.encode(frame, self.codec))

    def of(self, kind: type) -> list[f.Frame]:
        return [fr for fr in self.received if isinstance(fr, kind)]


def run(coro: object) -> None:
    asyncio.run(coro)  # type: ignore[arg-type]


def test_a_stream_is_replied_to_and_carries_data_both_ways() -> None:
    async def scenario() -> None:
        peer = Peer()
        await peer.send(f.SynStream(1, {"streamtype": "data", "port": "80"}))
        stream = await asyncio.wait_for(peer.streams.get(), 1)
        assert stream.headers == {"streamtype": "data", "port": "80"}
        assert peer.of(f.SynReply) == [f.SynReply(1, {})]
        await peer.send(f.DataFrame(1, b"ping"))
        await peer.send(f.DataFrame(1, b"", fin=True))
        assert await stream.read() == b"ping"
        assert await stream.read() == b""
        await stream.write(b"x" * (MAX_DATA_FRAME + 10))
        await stream.close()
        sent = peer.of(f.DataFrame)
        assert [len(d.data) for d in sent] == [MAX_DATA_FRAME, 10, 0]  # type: ignore[union-attr]
        assert sent[-1].fin  # type: ignore[union-attr]
        assert peer.session.streams == {}  # both halves closed: forgotten
    run(scenario())


def test_client_pings_are_echoed() -> None:
    async def scenario() -> None:
        peer = Peer()
        await peer.send(f.Ping(1))
        await peer.send(f.Ping(3))
        assert peer.of(f.Ping) == [f.Ping(1), f.Ping(3)]
    run(scenario())


def test_consumed_data_is_given_back_with_window_updates() -> None:
    async def scenario() -> None:
        peer = Peer()
        await peer.send(f.SynStream(1, {}))
        stream = await peer.streams.get()
        for _ in range(40):
            await peer.send(f.DataFrame(1, b"y" * 4096))
        assert peer.of(f.WindowUpdate) == []  # nothing read yet: nothing given back
        for _ in range(40):
            await stream.read()
        updates = peer.of(f.WindowUpdate)
        assert f.WindowUpdate(1, 32768) in updates and f.WindowUpdate(0, 32768) in updates
    run(scenario())


def test_a_peer_that_keeps_windows_is_not_overrun() -> None:
    async def scenario() -> None:
        peer = Peer()
        await peer.send(f.Settings(((0, f.SETTINGS_INITIAL_WINDOW_SIZE, 1000),)))
        await peer.send(f.SynStream(1, {}))
        stream = await peer.streams.get()
        writing = asyncio.create_task(stream.write(b"z" * 2500))
        await asyncio.sleep(0.01)
        assert sum(len(d.data) for d in peer.of(f.DataFrame)) == 1000  # type: ignore[union-attr]
        assert not writing.done()
        await peer.send(f.WindowUpdate(1, 5000))
        await asyncio.wait_for(writing, 1)
        assert sum(len(d.data) for d in peer.of(f.DataFrame)) == 2500  # type: ignore[union-attr]
    run(scenario())


def test_a_peer_without_flow_control_is_not_waited_for() -> None:
    """spdystream (kubectl) never sends WINDOW_UPDATE: 1 MiB goes out all the same."""
    async def scenario() -> None:
        peer = Peer()
        await peer.send(f.SynStream(1, {}))
        stream = await peer.streams.get()
        await asyncio.wait_for(stream.write(b"q" * (1 << 20)), 1)
        assert sum(len(d.data) for d in peer.of(f.DataFrame)) == 1 << 20  # type: ignore[union-attr]
    run(scenario())


def test_reset_and_goaway_end_streams() -> None:
    async def scenario() -> None:
        peer = Peer()
        await peer.send(f.SynStream(1, {}))
        await peer.send(f.SynStream(3, {}))
        one, three = await peer.streams.get(), await peer.streams.get()
        await peer.send(f.RstStream(1, f.CANCEL))
        try:
            await one.read()
            raise AssertionError("a reset stream reads on")
        except StreamReset:
            pass
        await peer.send(f.GoAway(3))
        assert peer.session.closed.is_set()
        try:
            await three.read()
            raise AssertionError("a stream of a closed session reads on")
        except StreamReset:
            pass
    run(scenario())


def test_server_stream_ids_and_reused_ids_are_refused() -> None:
    async def scenario() -> None:
        peer = Peer()
        await peer.send(f.SynStream(2, {}))
        await peer.send(f.SynStream(5, {}))
        await peer.send(f.SynStream(3, {}))
        assert peer.of(f.RstStream) == [f.RstStream(2, f.PROTOCOL_ERROR),
                                        f.RstStream(3, f.PROTOCOL_ERROR)]
        assert peer.of(f.SynReply) == [f.SynReply(5, {})]
    run(scenario())
