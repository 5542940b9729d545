"""The agent's port-forward: `GET /portForward/{namespace}/{pod}` over WebSocket.

The kubelet's path, in the two forms a client can speak, told apart by the WebSocket
sub-protocol offered (the apiserver relays the caller's choice message for message):

* `SPDY/3.1+portforward.k8s.io` (from the apiserver: `SPDY-3.1+portforward.k8s.io`, the
  same, in token characters): kubectl's SPDY/3.1 session inside binary messages
  (apimachinery.spdy). Each forwarded connection is a pair of streams, error and
  data, matched by their `requestID` header; the data stream's `port` header names
  the pod's port. One session carries every connection of a `kubectl port-forward`,
  so a new connection costs two stream openings here and a dial to the pod, and no
  new TLS or WebSocket handshake anywhere (docs/architecture.md, "Port-forward").
* `v4.channel.k8s.io` / `portforward.k8s.io` with `?ports=` (the channel-pair form the
  official Python client speaks): one connection per port for the WebSocket's life,
  data on channel 2i, errors on 2i+1 (apimachinery.portforward).

For each connection the agent dials the pod's IP on the pod network (the pod's own
network namespace in Kubernetes, where the CRI dials `localhost:port`; here every pod
has its own IP on the node's bridge, so a connection to it from the node reaches the
same socket). Bytes are relayed both ways and a client's half-close reaches the pod
as one. A refused dial, a broken connection or the pod stopping is said on the
connection's error stream in the kubelet's words (`error forwarding port 80 to pod
NS/NAME, uid ...: ...`), which kubectl prints. The caller was authenticated and
authorized as for every agent path (`nodes/proxy`: the apiserver, as itself); the
apiserver authorized the user.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.responses import PlainTextResponse, Response
from starlette.websockets import WebSocket, WebSocketDisconnect

from agent.server.unavailable import Unavailable
from apimachinery import portforward as pf
from apimachinery import wsstream
from apimachinery.racing import first_done
from apimachinery.spdy.frames import GoAway
from apimachinery.spdy.session import Session, Stream, StreamReset
from apimachinery.tlspeer import nodelay

log = logging.getLogger(__name__)

LIVENESS_INTERVAL = 1.0  # seconds between checks that the pod still runs
READ_SIZE = 64 * 1024
DIAL_TIMEOUT = 10.0
# Connections of one session whose second stream has not come yet. kubectl opens both at
# once, so only a client that opens halves and never the rest meets it: each half holds a
# dial to the pod, and past this its new streams are reset instead.
MAX_UNPAIRED = 128

# (namespace, pod) -> (pod IP, pod uid) of a running pod, or why it cannot be reached
PodAddress = Callable[[str, str], Awaitable["tuple[str, str] | Unavailable"]]
# a WebSocket's caller -> None when it may, else the answer that refuses it
Gate = Callable[[WebSocket], Awaitable[Response | None]]
# (port, the task dialling it) of a connection whose second stream has not come yet
Dialling = tuple[int, "asyncio.Task[tuple[asyncio.StreamReader, asyncio.StreamWriter]]"]


async def serve(ws: WebSocket, gate: Gate, address: PodAddress) -> None:
    """One port-forward request, from the upgrade to the last byte."""
    if (refusal := await gate(ws)) is not None:
        await ws.send_denial_response(refusal)
        return
    namespace, name = ws.path_params["namespace"], ws.path_params["pod"]
    offered = list(ws.scope.get("subprotocols") or [])
    spdy = next((p for p in offered if p in pf.SPDY_PROTOCOLS), None)
    ports: list[int] = []
    if not spdy:
        try:
            ports = pf.parse_ports(ws.query_params.getlist("ports"))
        except pf.InvalidPorts as exc:
            await ws.send_denial_response(PlainTextResponse(f"{exc}\n", status_code=400))
            return
    found = await address(namespace, name)
    if isinstance(found, Unavailable):
        await ws.send_denial_response(PlainTextResponse(found.message + "\n",
                                                        status_code=found.code))
        return
    target = PodTarget(namespace, name, found[0], found[1], address)
    if spdy:
        await ws.accept(subprotocol=spdy)
        await SpdyForwarder(ws, target).run()
    else:
        await ws.accept(subprotocol=next((p for p in offered if p in pf.CHANNEL_PROTOCOLS),
                                         None))
        await ChannelForwarder(ws, target, ports).run()


class DialFailed(Exception):
    """The pod's port could not be reached; the message is the kubelet's words for it."""


@dataclass
class PodTarget:
    """The pod a forward reaches: its address as found at the upgrade, and how to tell
    that it has gone."""

    namespace: str
    name: str
    ip: str
    uid: str
    address: PodAddress

    async def dial(self, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(self.ip, port),
                                                    timeout=DIAL_TIMEOUT)
        except (OSError, TimeoutError) as exc:
            raise DialFailed(_dial_error(self.ip, port, exc)) from None
        nodelay(writer.transport)
        return reader, writer

    def error_text(self, port: int, why: str) -> bytes:
        log.info("component=agent port-forward pod=%s/%s port=%d error=%s",
                 self.namespace, self.name, port, why)
        return (f"error forwarding port {port} to pod {self.namespace}/{self.name}, "
                f"uid {self.uid}: {why}").encode()

    async def gone(self) -> str:
        """Return, saying why, once the pod stops running or its sandbox is replaced."""
        while True:
            await asyncio.sleep(LIVENESS_INTERVAL)
            found = await self.address(self.namespace, self.name)
            if isinstance(found, Unavailable):
                return found.message
            if found != (self.ip, self.uid):
                return "the pod's sandbox was replaced"


class SpdyForwarder:
    """kubectl's SPDY session: each error/data stream pair is one connection to the pod."""

    def __init__(self, ws: WebSocket, target: PodTarget) -> None:
        self.ws = ws
        self.target = target
        self.session = Session(ws.send_bytes, self._stream)
        self.pairs: dict[str, dict[str, Stream]] = {}
        self.open_errors: dict[Stream, int] = {}  # error stream -> port, while connected
        self.dials: dict[str, Dialling] = {}  # requestID -> its pod connection, being made

    async def run(self) -> None:
        receive = asyncio.create_task(self._receive())
        gone = asyncio.create_task(self.target.gone())
        try:
            await asyncio.wait((receive, gone), return_when=asyncio.FIRST_COMPLETED)
            if gone.done() and not gone.cancelled() and gone.exception() is None:
                await self._say_to_all(gone.result())
        finally:
            self.session.close()
            await first_done(receive, gone, *self.session.tasks)
            for early in self.dials.values():  # pairs that never completed
                await _discard(early)
            with contextlib.suppress(Exception):
                await self.ws.close(1000)

    async def _receive(self) -> None:
        with contextlib.suppress(WebSocketDisconnect, RuntimeError, StreamReset):
            while True:
                message = await self.ws.receive()
                if message["type"] == "websocket.disconnect":
                    return
                if data := wsstream.message_bytes(message):
                    await self.session.receive(data)

    async def _say_to_all(self, why: str) -> None:
        """The pod is gone: every open connection's error stream says so (kubectl prints
        it and closes the local connection), then the session ends."""
        for error, port in list(self.open_errors.items()):
            with contextlib.suppress(StreamReset):
                await error.write(self.target.error_text(port, why))
                await error.close()
        with contextlib.suppress(StreamReset):
            await self.session.send(GoAway(0))

    async def _stream(self, stream: Stream) -> None:
        kind = stream.headers.get("streamtype", "")
        if kind not in ("error", "data"):
            await stream.cancel()
            return
        request = stream.headers.get("requestid", "")
        pair = self.pairs.get(request)
        if (pair is None and len(self.pairs) >= MAX_UNPAIRED) or kind in (pair or {}):
            await stream.cancel()  # past the bound, or a second stream of the same kind
            return
        pair = self.pairs.setdefault(request, {})
        pair[kind] = stream
        if len(pair) == 1:
            # kubectl names the port on both streams and waits for each stream's reply
            # before opening the next: the pod is dialled while it waits.
            self._dial_early(request, stream.headers.get("port", ""))
            return
        del self.pairs[request]
        await self._connection(pair["data"], pair["error"], self.dials.pop(request, None))

    def _dial_early(self, request: str, port: str) -> None:
        if port.isdigit() and 1 <= int(port) <= 65535 and request not in self.dials:
            self.dials[request] = (int(port), asyncio.create_task(self.target.dial(int(port))))

    async def _connection(self, data: Stream, error: Stream, early: Dialling | None) -> None:
        text = data.headers.get("port", "")
        if not text.isdigit() or not 1 <= int(text) <= 65535:
            await _end(error, data, f"invalid port {text!r}".encode())
            await _discard(early)
            return
        port = int(text)
        if early is not None and early[0] != port:  # the pair named two ports: the data's
            await _discard(early)
            early = None
        try:
            reader, writer = await (asyncio.shield(early[1]) if early is not None
                                    else self.target.dial(port))
        except asyncio.CancelledError:
            await _discard(early)  # the session ended while the dial was under way
            raise
        except DialFailed as exc:
            await _end(error, data, self.target.error_text(port, str(exc)))
            return
        self.open_errors[error] = port
        try:
            await first_done(asyncio.create_task(self._to_pod(data, writer)),
                               asyncio.create_task(self._from_pod(reader, data, error, port)))
        finally:
            self.open_errors.pop(error, None)
            writer.close()
            await _end(error, data)

    @staticmethod
    async def _to_pod(data: Stream, writer: asyncio.StreamWriter) -> None:
        """The client's bytes to the pod; its half-close is the pod's end of input, and
        the connection lives on until the pod's side ends."""
        try:
            while chunk := await data.read():
                writer.write(chunk)
                await writer.drain()
            if writer.can_write_eof():
                writer.write_eof()
        except (StreamReset, OSError):
            return
        await asyncio.Future()

    async def _from_pod(self, reader: asyncio.StreamReader, data: Stream, error: Stream,
                        port: int) -> None:
        try:
            while chunk := await reader.read(READ_SIZE):
                await data.write(chunk)
        except OSError as exc:
            with contextlib.suppress(StreamReset):
                await error.write(self.target.error_text(
                    port, f"read tcp {self.target.ip}:{port}: {exc}"))
        except StreamReset:
            return


async def _discard(early: Dialling | None) -> None:
    """Cancel a dial no connection will use, or close what it made."""
    if early is None:
        return
    task = early[1]
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, DialFailed):
        _, writer = await task
        writer.close()


async def _end(error: Stream, data: Stream, message: bytes = b"") -> None:
    """Close a connection's two streams, saying `message` on its error stream first."""
    with contextlib.suppress(StreamReset):
        if message:
            await error.write(message)
        await error.close()
        await data.close()


class ChannelForwarder:
    """The channel-pair form: a connection per port of the query, and a liveness watch."""

    def __init__(self, ws: WebSocket, target: PodTarget, ports: list[int]) -> None:
        self.ws = ws
        self.target = target
        self.ports = ports
        self.writers: dict[int, asyncio.StreamWriter] = {}
        self.send_lock = asyncio.Lock()

    async def run(self) -> None:
        ports: list[asyncio.Task[None]] = []
        try:
            for i, port in enumerate(self.ports):
                await self._send(wsstream.frame(pf.data_channel(i), pf.port_prefix(port)))
                await self._send(wsstream.frame(pf.error_channel(i), pf.port_prefix(port)))
            # Every port dialled before the client's first bytes are read: none is dropped.
            readers = await asyncio.gather(*(self._dial(i, port)
                                             for i, port in enumerate(self.ports)))
            ports = [asyncio.create_task(self._port(i, port, reader)) for i, (port, reader)
                     in enumerate(zip(self.ports, readers, strict=True))]
            await first_done(self._inbound(), self._liveness(), _all(ports))
        finally:
            # The pod's connections first, whatever ended the forward (a cancellation
            # in the dials too): a writer left open outlives its loop.
            for writer in self.writers.values():
                writer.close()
            await first_done(*ports)
            with contextlib.suppress(Exception):
                await self.ws.close(1000)

    async def _dial(self, index: int, port: int) -> asyncio.StreamReader | None:
        """A connection to the pod's port (its writer kept), or None, said on the port's
        error channel."""
        try:
            reader, writer = await self.target.dial(port)
        except DialFailed as exc:
            await self._error(index, port, str(exc))
            return None
        self.writers[index] = writer
        return reader

    async def _send(self, message: bytes) -> None:
        async with self.send_lock:
            await self.ws.send_bytes(message)

    async def _error(self, index: int, port: int, why: str) -> None:
        with contextlib.suppress(Exception):
            await self._send(wsstream.frame(pf.error_channel(index),
                                            self.target.error_text(port, why)))

    async def _port(self, index: int, port: int, reader: asyncio.StreamReader | None
                    ) -> None:
        """Copy what the pod's port sends to the port's data channel, to its end."""
        if reader is None:
            return
        channel = pf.data_channel(index)
        try:
            while chunk := await reader.read(READ_SIZE):
                await self._send(wsstream.frame(channel, chunk))
        except OSError as exc:
            await self._error(index, port, f"read tcp {self.target.ip}:{port}: {exc}")

    async def _inbound(self) -> None:
        """Client messages to the ports' connections, until the client goes away."""
        while True:
            try:
                message = await self.ws.receive_bytes()
            except (WebSocketDisconnect, RuntimeError, KeyError):
                return
            if not message:
                continue
            channel, data = wsstream.unframe(message)
            writer = self.writers.get(channel // 2)
            if channel % 2 or writer is None or not data:
                continue
            try:
                writer.write(data)
                await writer.drain()
            except OSError as exc:
                index = channel // 2
                await self._error(index, self.ports[index],
                                  f"write tcp {self.target.ip}:{self.ports[index]}: {exc}")
                return

    async def _liveness(self) -> None:
        why = await self.target.gone()
        for i, port in enumerate(self.ports):
            await self._error(i, port, why)


async def _all(tasks: list[asyncio.Task[None]]) -> None:
    await asyncio.gather(*tasks, return_exceptions=True)


def _dial_error(ip: str, port: int, exc: BaseException) -> str:
    """Go's words for a failed dial, as the kubelet reports it."""
    if isinstance(exc, ConnectionRefusedError):
        return f"dial tcp {ip}:{port}: connect: connection refused"
    if isinstance(exc, TimeoutError):
        return f"dial tcp {ip}:{port}: i/o timeout"
    return f"dial tcp {ip}:{port}: {exc}"
