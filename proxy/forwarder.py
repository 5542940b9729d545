"""One listening socket per service port, and the byte pipe behind each connection.

kube-proxy's userspace `proxysocket.go`: accept on clusterIP:port, ask the balancer
for a backend, dial it with a short timeout, skip a backend that refuses or does not
answer, and copy bytes both ways until both directions are done. Each connection is
its own asyncio task, so a slow backend or client stalls nobody else. Half-close is
passed on: when one side sends FIN, the other side's write half is shut down and the
reverse direction keeps flowing (an HTTP/1.0 client that half-closes after its
request still gets the whole response).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from .balancer import RoundRobin
from .plan import ServicePort

log = logging.getLogger(__name__)

DIAL_TIMEOUT = 1.0
CHUNK = 64 * 1024


async def _copy(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
    """Copy until EOF, then pass the EOF on as a half-close."""
    while data := await src.read(CHUNK):
        dst.write(data)
        await dst.drain()
    if dst.can_write_eof():
        with contextlib.suppress(OSError, RuntimeError):
            dst.write_eof()


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(OSError, RuntimeError):
        await asyncio.wait_for(writer.wait_closed(), 1.0)


async def pipe(client: tuple[asyncio.StreamReader, asyncio.StreamWriter],
               upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter]) -> None:
    """Copy both ways until both directions reached EOF or either one failed."""
    copies = [asyncio.create_task(_copy(client[0], upstream[1])),
              asyncio.create_task(_copy(upstream[0], client[1]))]
    try:
        pending: set[asyncio.Task[None]] = set(copies)
        while pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            if any(not t.cancelled() and t.exception() is not None for t in done):
                break  # a reset or broken pipe: tear down both directions
    finally:
        for task in copies:
            task.cancel()
        await asyncio.gather(*copies, return_exceptions=True)
        await _close(client[1])
        await _close(upstream[1])


class PortForwarder:
    """The listener of one service port on clusterIP:port."""

    def __init__(self, service_port: ServicePort, balancer: RoundRobin,
                 connections: set[asyncio.Task[None]],
                 dial_timeout: float = DIAL_TIMEOUT) -> None:
        self.service_port = service_port
        self.balancer = balancer
        self._connections = connections  # shared with the proxier, to cancel on shutdown
        self._dial_timeout = dial_timeout
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        sp = self.service_port
        self._server = await asyncio.start_server(self._handle, sp.cluster_ip, sp.port,
                                                  reuse_address=True)
        log.info("component=proxy service=%s listen=%s:%d backends=%d msg=\"listening\"",
                 sp.key, sp.cluster_ip, sp.port, len(self.balancer.backends))

    def close(self) -> None:
        """Stop accepting; connections already open keep flowing."""
        if self._server is not None:
            self._server.close()
            self._server = None
            log.info("component=proxy service=%s listen=%s:%d msg=\"stopped listening\"",
                     self.service_port.key, self.service_port.cluster_ip,
                     self.service_port.port)

    async def _handle(self, reader: asyncio.StreamReader,
                      writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._connections.add(task)
        try:
            await self._forward(reader, writer)
        except asyncio.CancelledError:
            # Shutdown cancels open connections. The task is asyncio's own, and Python
            # 3.11's StreamReaderProtocol logs a traceback for a handler task that ends
            # cancelled (it calls task.exception()), so the task ends normally instead.
            pass
        except Exception:
            log.exception("component=proxy service=%s msg=\"connection failed\"",
                          self.service_port.key)
        finally:
            if task is not None:
                self._connections.discard(task)
            if not writer.is_closing():  # failed or cancelled before the pipe closed it
                writer.transport.abort()

    async def _forward(self, reader: asyncio.StreamReader,
                       writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        client_ip = str(peer[0]) if peer else ""
        for backend in self.balancer.candidates(client_ip):
            try:
                upstream = await asyncio.wait_for(
                    asyncio.open_connection(backend.ip, backend.port), self._dial_timeout)
            except (OSError, TimeoutError) as exc:
                log.warning("component=proxy service=%s backend=%s error=%r "
                            "msg=\"dial failed, trying next\"", self.service_port.key,
                            backend, exc)
                continue
            self.balancer.connected(client_ip, backend)
            log.debug("component=proxy service=%s client=%s backend=%s msg=\"forwarding\"",
                      self.service_port.key, client_ip, backend)
            await pipe((reader, writer), upstream)
            return
        log.warning("component=proxy service=%s client=%s msg=\"no backend answered, "
                    "closing\"", self.service_port.key, client_ip)
