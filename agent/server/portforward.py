"""The agent's port-forward: `GET /portForward/{namespace}/{pod}?ports=...` over WebSocket.

The kubelet's path and its WebSocket channel-pair protocol (apimachinery.portforward):
for each port the agent dials the pod's IP on the pod network (the pod's own
network namespace in Kubernetes, where the CRI dials `localhost:port`; here every pod
has its own IP on the node's bridge, so a connection to it from the node reaches
the same socket). Bytes are relayed both ways; a refused dial, a broken connection or
the pod stopping is said on the port's error channel in the kubelet's words
(`error forwarding port 80 to pod NS/NAME, uid ...: ...`), then the WebSocket closes.
The caller is authenticated and authorized as for every agent path (`nodes/proxy`,
verb get: the apiserver, as itself); the apiserver authorized the user.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from starlette.responses import PlainTextResponse, Response
from starlette.websockets import WebSocket, WebSocketDisconnect

from agent.server.unavailable import Unavailable
from apimachinery import portforward as pf
from apimachinery.tlspeer import nodelay

log = logging.getLogger(__name__)

LIVENESS_INTERVAL = 1.0  # seconds between checks that the pod still runs
READ_SIZE = 64 * 1024

# (namespace, pod) -> (pod IP, pod uid) of a running pod, or why it cannot be reached
PodAddress = Callable[[str, str], Awaitable["tuple[str, str] | Unavailable"]]
# a WebSocket's caller -> None when it may, else the answer that refuses it
Gate = Callable[[WebSocket], Awaitable[Response | None]]


async def serve(ws: WebSocket, gate: Gate, address: PodAddress) -> None:
    """One port-forward request, from the upgrade to the last byte."""
    if (refusal := await gate(ws)) is not None:
        await ws.send_denial_response(refusal)
        return
    namespace, name = ws.path_params["namespace"], ws.path_params["pod"]
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
    offered = ws.scope.get("subprotocols") or []
    protocol = next((p for p in offered if p in pf.CHANNEL_PROTOCOLS), None)
    await ws.accept(subprotocol=protocol)
    await Forwarder(ws, namespace, name, found, ports, address).run()


class Forwarder:
    """The relay of one WebSocket: a TCP connection per port, and a liveness watch."""

    def __init__(self, ws: WebSocket, namespace: str, name: str, found: tuple[str, str],
                 ports: list[int], address: PodAddress) -> None:
        self.ws = ws
        self.namespace, self.name = namespace, name
        self.ip, self.uid = found
        self.ports = ports
        self.address = address
        self.writers: dict[int, asyncio.StreamWriter] = {}
        self.send_lock = asyncio.Lock()
        self.open_ports = len(ports)

    async def run(self) -> None:
        for i, port in enumerate(self.ports):
            await self._send(pf.frame(pf.data_channel(i), pf.port_prefix(port)))
            await self._send(pf.frame(pf.error_channel(i), pf.port_prefix(port)))
        # Every port dialled before the client's first bytes are read: none is dropped.
        readers = await asyncio.gather(*(self._dial(i, port)
                                         for i, port in enumerate(self.ports)))
        tasks = [asyncio.create_task(self._port(i, port, reader))
                 for i, (port, reader) in enumerate(zip(self.ports, readers, strict=True))]
        tasks.append(asyncio.create_task(self._inbound()))
        tasks.append(asyncio.create_task(self._liveness()))
        try:
            await asyncio.wait([*tasks[-2:], asyncio.ensure_future(self._all_ports(tasks))],
                               return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            for writer in self.writers.values():
                writer.close()
            with contextlib.suppress(Exception):
                await self.ws.close(1000)

    async def _dial(self, index: int, port: int) -> asyncio.StreamReader | None:
        """A connection to the pod's port (its writer kept), or None, said on the port's
        error channel."""
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(self.ip, port), timeout=10)
        except (OSError, TimeoutError) as exc:
            await self._error(index, port, _dial_error(self.ip, port, exc))
            return None
        nodelay(writer.transport)
        self.writers[index] = writer
        return reader

    async def _all_ports(self, tasks: list[asyncio.Task[None]]) -> None:
        await asyncio.gather(*tasks[:len(self.ports)], return_exceptions=True)

    async def _send(self, message: bytes) -> None:
        async with self.send_lock:
            await self.ws.send_bytes(message)

    async def _error(self, index: int, port: int, why: str) -> None:
        message = (f"error forwarding port {port} to pod {self.namespace}/{self.name}, "
                   f"uid {self.uid}: {why}")
        log.info("component=agent port-forward pod=%s/%s port=%d error=%s",
                 self.namespace, self.name, port, why)
        with contextlib.suppress(Exception):
            await self._send(pf.frame(pf.error_channel(index), message.encode()))

    async def _port(self, index: int, port: int, reader: asyncio.StreamReader | None
                    ) -> None:
        """Copy what the pod's port sends to the port's data channel, to its end."""
        if reader is None:
            return
        channel = pf.data_channel(index)
        try:
            while chunk := await reader.read(READ_SIZE):
                await self._send(pf.frame(channel, chunk))
        except OSError as exc:
            await self._error(index, port, f"read tcp {self.ip}:{port}: {exc}")

    async def _inbound(self) -> None:
        """Client messages to the ports' connections, until the client goes away."""
        while True:
            try:
                message = await self.ws.receive_bytes()
            except (WebSocketDisconnect, RuntimeError, KeyError):
                return
            if not message:
                continue
            channel, data = pf.split(message)
            writer = self.writers.get(channel // 2)
            if channel % 2 or writer is None or not data:
                continue
            try:
                writer.write(data)
                await writer.drain()
            except OSError as exc:
                index = channel // 2
                await self._error(index, self.ports[index],
                                  f"write tcp {self.ip}:{self.ports[index]}: {exc}")
                return

    async def _liveness(self) -> None:
        """End the forward, saying why, when the pod stops running or its IP changes."""
        while True:
            await asyncio.sleep(LIVENESS_INTERVAL)
            found = await self.address(self.namespace, self.name)
            if isinstance(found, Unavailable) or found != (self.ip, self.uid):
                why = (found.message if isinstance(found, Unavailable)
                       else "the pod's sandbox was replaced")
                for i, port in enumerate(self.ports):
                    await self._error(i, port, why)
                return


def _dial_error(ip: str, port: int, exc: BaseException) -> str:
    """Go's words for a failed dial, as the kubelet reports it."""
    if isinstance(exc, ConnectionRefusedError):
        return f"dial tcp {ip}:{port}: connect: connection refused"
    if isinstance(exc, TimeoutError):
        return f"dial tcp {ip}:{port}: i/o timeout"
    return f"dial tcp {ip}:{port}: {exc}"
