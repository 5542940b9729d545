"""The async client's HTTP transport: httpx's API over aiohttp's connection pool.

httpcore's pool and anyio's streams cost about three times aiohttp's client CPU
per request (docs/architecture.md, "Why the async client sends through
aiohttp"), and the scheduler, the controllers and the hollow nodes are all such
clients. httpx-aiohttp's transport does the translation; this module adds one
thing it lacks.

A TLS connection aiohttp closes in mid-life (a watch stream given up before its
end, a response the server marked `Connection: close`) is closed in the
background: the TLS close_notify exchange takes a loop iteration or more, and
aiohttp's connector does not wait for it. A program that closes its client and
then its loop straight away (`asyncio.run` returning) leaves that socket open,
and Python reports it as an unclosed transport when it is collected.
`ClosingConnector` remembers those closes and `close()` waits for them.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport

CLOSE_WAIT_SECONDS = 5.0  # a live peer answers close_notify in a round trip; a dead one resets


class ClosingConnector(aiohttp.TCPConnector):
    """A TCPConnector whose close() also waits for the connections it closed before."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._closing: set[asyncio.Future[None]] = set()

    def _release(self, key: Any, protocol: Any, *, should_close: bool = False) -> None:
        closes = self._force_close or should_close or protocol.should_close
        closed = protocol.closed if closes and not self._closed else None
        super()._release(key, protocol, should_close=should_close)
        if closed is not None and not closed.done():
            self._closing.add(closed)
            closed.add_done_callback(self._closing.discard)

    async def close(self, *, abort_ssl: bool = False) -> None:
        await super().close(abort_ssl=abort_ssl)
        if self._closing:
            await asyncio.wait(set(self._closing), timeout=CLOSE_WAIT_SECONDS)


def aiohttp_transport(verify: ssl.SSLContext | bool, limits: httpx.Limits) -> AiohttpTransport:
    """An httpx transport over one aiohttp session, made on first use (inside the loop)."""
    transport = AiohttpTransport(verify=verify, limits=limits)

    def session() -> aiohttp.ClientSession:
        connector = ClosingConnector(ssl=transport.ssl_context,
                                     limit=limits.max_connections or 0,
                                     keepalive_timeout=limits.keepalive_expiry)
        return aiohttp.ClientSession(connector=connector)

    transport.client = session
    return transport


def never_sent(exc: httpx.TransportError) -> bool:
    """Did this failure happen before any byte of the request could reach a server?

    Only then may a write be resent to another apiserver. httpx-aiohttp maps every
    aiohttp connection error, a connection the server dropped mid-reply included, to
    httpx.ConnectTimeout, so the aiohttp cause decides: failing to connect (refused,
    unroutable, TLS handshake, connect timeout) is safe, anything later is not."""
    cause = exc.__cause__
    if isinstance(cause, aiohttp.ClientError):
        return isinstance(cause, aiohttp.ClientConnectorError | aiohttp.ConnectionTimeoutError)
    return isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
