"""A SPDY/3.1 session, server side, over any byte transport (asyncio).

The server half of what kubectl's spdystream client expects: every SYN_STREAM is
answered with a SYN_REPLY at once (kubectl waits for it, 30 s) and handed to
`on_stream`; PINGs from the client (odd ids) are echoed; GOAWAY ends the session;
RST_STREAM resets a stream; a FIN half-closes it. Flow control as SPDY/3.1 has it:
data the application has consumed is given back with WINDOW_UPDATE per stream and
for the session (so a flow-controlled sender never stalls); our own sends wait on
the peer's windows once the peer shows it keeps them (a WINDOW_UPDATE, or a SETTINGS
INITIAL_WINDOW_SIZE): spdystream keeps none and never sends either, and would stall
after 64 KiB if we waited for updates it never sends.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from apimachinery.spdy import frames as f

log = logging.getLogger(__name__)

MAX_DATA_FRAME = 32 * 1024  # what one data frame carries at most (spdystream reads 32 KiB)
WINDOW_UPDATE_AT = f.INITIAL_WINDOW // 2  # give back consumed bytes in halves of a window

Send = Callable[[bytes], Awaitable[None]]


class StreamReset(Exception):
    """The peer reset the stream (RST_STREAM), or the session ended under it."""


class Stream:
    """One SPDY stream: headers from its SYN_STREAM, data in, data out, half-closes."""

    def __init__(self, session: Session, stream_id: int, headers: f.Headers) -> None:
        self.session = session
        self.id = stream_id
        self.headers = headers
        self._incoming: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.remote_closed = False  # the peer sent FIN
        self.local_closed = False  # we sent FIN
        self.reset = False
        self.send_window = session.initial_send_window
        self._unacked = 0  # consumed bytes not yet given back with WINDOW_UPDATE

    async def read(self) -> bytes:
        """The next data the peer sent; b"" at its FIN; StreamReset when reset."""
        chunk = await self._incoming.get()
        if chunk is None:
            self._incoming.put_nowait(None)  # every later read sees the end too
            if self.reset:
                raise StreamReset(f"stream {self.id} was reset")
            return b""
        await self._consumed(len(chunk))
        return chunk

    async def write(self, data: bytes) -> None:
        """Send data, in frames of at most MAX_DATA_FRAME, inside the peer's windows."""
        view = memoryview(data)
        while view:
            if self.reset:
                raise StreamReset(f"stream {self.id} was reset")
            size = await self.session.reserve(self, min(len(view), MAX_DATA_FRAME))
            await self.session.send(f.DataFrame(self.id, bytes(view[:size])))
            view = view[size:]

    async def close(self) -> None:
        """Half-close: an empty data frame with FIN, once."""
        if not self.local_closed and not self.reset:
            self.local_closed = True
            await self.session.send(f.DataFrame(self.id, b"", fin=True))
            self.session.forget_if_done(self)

    async def cancel(self) -> None:
        """Reset the stream (RST_STREAM CANCEL), as a relay does when its far end fails."""
        if not self.reset:
            self._on_reset()
            await self.session.send(f.RstStream(self.id, f.CANCEL))

    def _on_data(self, data: bytes, fin: bool) -> None:
        if data:
            self._incoming.put_nowait(data)
        if fin:
            self.remote_closed = True
            self._incoming.put_nowait(None)

    def _on_reset(self) -> None:
        self.reset = self.remote_closed = self.local_closed = True
        self._incoming.put_nowait(None)
        self.session.forget_if_done(self)

    async def _consumed(self, size: int) -> None:
        self._unacked += size
        if self._unacked >= WINDOW_UPDATE_AT:
            delta, self._unacked = self._unacked, 0
            if not (self.remote_closed or self.session.closed.is_set()):
                await self.session.send(f.WindowUpdate(self.id, delta))
        await self.session.consumed(size)


class Session:
    """The server side of a SPDY/3.1 session. Feed it bytes (`receive`), in order;
    `on_stream` is called (as a task) with each stream the client opens."""

    def __init__(self, send: Send,
                 on_stream: Callable[[Stream], Coroutine[Any, Any, None]]) -> None:
        self._send = send
        self._on_stream = on_stream
        self._codec = f.HeaderCodec()
        self._reader = f.FrameReader(self._codec)
        self._lock = asyncio.Lock()
        self.streams: dict[int, Stream] = {}
        self.tasks: set[asyncio.Task[None]] = set()
        self.initial_send_window = f.INITIAL_WINDOW
        self.session_send_window = f.INITIAL_WINDOW
        self.peer_flow_control = False
        self._window_open = asyncio.Event()
        self._session_unacked = 0
        self.closed = asyncio.Event()
        self._last_stream = 0

    async def send(self, frame: f.Frame) -> None:
        """Encode and send under one lock: header compression depends on frame order."""
        if self.closed.is_set():
            raise StreamReset("the session is closed")
        async with self._lock:
            await self._send(f.encode(frame, self._codec))

    async def receive(self, data: bytes) -> None:
        """Bytes from the peer: act on every whole frame among them."""
        self._reader.feed(data)
        for frame in self._reader.frames():
            await self._handle(frame)

    async def _handle(self, frame: f.Frame) -> None:
        match frame:
            case f.DataFrame(sid, data, fin):
                stream = self.streams.get(sid)
                if stream is None or stream.remote_closed:
                    await self.send(f.RstStream(sid, f.INVALID_STREAM if stream is None
                                                else f.STREAM_ALREADY_CLOSED))
                    return
                stream._on_data(data, fin)
                self.forget_if_done(stream)
            case f.SynStream():
                await self._open(frame)
            case f.RstStream(sid, _):
                if (stream := self.streams.get(sid)) is not None:
                    stream._on_reset()
            case f.Ping(ping_id):
                if ping_id % 2 == 1:  # the client's; our own (even) we never send
                    await self.send(frame)
            case f.Settings():
                self._apply_settings(frame)
            case f.WindowUpdate(sid, delta):
                self._window_update(sid, delta)
            case f.GoAway():
                self.close()
            case f.HeadersFrame(sid, _, fin):
                if fin and (stream := self.streams.get(sid)) is not None:
                    stream._on_data(b"", True)
            case f.SynReply():
                pass  # we open no streams

    async def _open(self, frame: f.SynStream) -> None:
        if frame.stream_id % 2 == 0 or frame.stream_id <= self._last_stream:
            await self.send(f.RstStream(frame.stream_id, f.PROTOCOL_ERROR))
            return
        self._last_stream = frame.stream_id
        stream = Stream(self, frame.stream_id, frame.headers)
        self.streams[stream.id] = stream
        await self.send(f.SynReply(stream.id))
        if frame.fin:
            stream._on_data(b"", True)
        task = asyncio.create_task(self._on_stream(stream))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def _apply_settings(self, settings: f.Settings) -> None:
        window = settings.value(f.SETTINGS_INITIAL_WINDOW_SIZE)
        if window is not None:
            self.peer_flow_control = True
            for stream in self.streams.values():
                stream.send_window += window - self.initial_send_window
            self.initial_send_window = window
            self._window_open.set()

    def _window_update(self, stream_id: int, delta: int) -> None:
        self.peer_flow_control = True
        if stream_id == 0:
            self.session_send_window += delta
        elif (stream := self.streams.get(stream_id)) is not None:
            stream.send_window += delta
        self._window_open.set()

    async def reserve(self, stream: Stream, wanted: int) -> int:
        """How much of `wanted` the stream may send now, waiting for window if the peer
        keeps windows and none is left; the windows are charged for it."""
        while self.peer_flow_control:
            size = min(wanted, stream.send_window, self.session_send_window)
            if size > 0:
                stream.send_window -= size
                self.session_send_window -= size
                return size
            if stream.reset or self.closed.is_set():
                raise StreamReset(f"stream {stream.id} was reset")
            self._window_open.clear()
            await self._window_open.wait()
        return wanted

    async def consumed(self, size: int) -> None:
        self._session_unacked += size
        if self._session_unacked >= WINDOW_UPDATE_AT and not self.closed.is_set():
            delta, self._session_unacked = self._session_unacked, 0
            await self.send(f.WindowUpdate(0, delta))

    def forget_if_done(self, stream: Stream) -> None:
        if stream.remote_closed and stream.local_closed:
            self.streams.pop(stream.id, None)

    def close(self) -> None:
        """The transport ended (or GOAWAY): every stream ends, reset."""
        if self.closed.is_set():
            return
        self.closed.set()
        self._window_open.set()
        for stream in list(self.streams.values()):
            stream._on_reset()
        self.streams.clear()
