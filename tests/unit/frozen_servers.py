"""Servers for client timeout tests: a frozen one (a listening socket nobody accepts
from: what a paused apiserver container looks like) and small live aiohttp ones."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import orjson
from aiohttp import web

# Set when a served app is torn down: a handler holding a stream open waits on it.
RELEASE = web.AppKey("release", asyncio.Event)


@contextlib.contextmanager
def frozen_url() -> Iterator[str]:
    """A URL whose server accepts TCP connections (the kernel's backlog) and never reads."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


def event(rv: str) -> bytes:
    """One ADDED watch event line of a pod at resourceVersion `rv`."""
    obj = {"kind": "Pod", "metadata": {"name": f"p{rv}", "resourceVersion": rv}}
    return orjson.dumps({"type": "ADDED", "object": obj}) + b"\n"


def app() -> web.Application:
    """An application with the RELEASE event its silent handlers wait on."""
    application = web.Application()
    application[RELEASE] = asyncio.Event()
    return application


@contextlib.asynccontextmanager
async def serve(application: web.Application) -> AsyncIterator[str]:
    """Serve `application` (made by `app()`) on a free loopback port; its URL."""
    runner = web.AppRunner(application)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        application[RELEASE].set()  # ends a silent stream, which cleanup would wait for
        await runner.cleanup()


def run_async(test: Callable[..., Awaitable[None]]) -> Callable[..., None]:
    """A coroutine test run on a fresh event loop (pytest passes its fixtures through)."""
    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> None:
        asyncio.run(test(*args, **kwargs))  # type: ignore[arg-type]
    return run
