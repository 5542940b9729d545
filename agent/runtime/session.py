"""An interactive exec or attach: the engine's hijacked connection, read and written on the
event loop (CRI's streaming Exec/Attach, as the kubelet serves them).

The engine gives a raw socket once the exec (or attach) starts: whatever is written
to it is the command's stdin (a half-close is its end of input), and what comes back
is its output, raw with a terminal, else multiplexed (8-byte headers, `Demuxer`). The
socket is made non-blocking and driven with the loop's `sock_recv`/`sock_sendall`, so
a session holds no thread however long it lasts. Resizing, the exit code and killing
what is left when the caller goes away are the runtime's calls, handed in.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from apimachinery.wsstream import (
    EXIT_CANNOT_EXECUTE,
    EXIT_NOT_FOUND,
    STDOUT,
    Demuxer,
)

log = logging.getLogger(__name__)
READ_SIZE = 64 * 1024
# What the engine writes instead of output when the command cannot be started (runc's
# words), followed by exit code 126 or 127: the kubelet reports that as an error.
START_FAILURE = b"OCI runtime exec failed"


@dataclass(frozen=True)
class Ending:
    """How a session ended: the exit code (None: none, an attach), or why the command
    never ran (`error`, the runtime's words)."""

    exit_code: int | None
    error: str = ""


class StreamSession:
    """One running exec or attach, driven by the agent's stream handler."""

    def __init__(self, raw: Any, *, tty: bool,
                 resize: Callable[[int, int], Awaitable[None]],
                 exit_code: Callable[[], Awaitable[int | None]],
                 kill: Callable[[], Awaitable[None]]) -> None:
        self._raw = raw  # the SDK's wrapper: kept so its socket is not closed under us
        sock = getattr(raw, "_sock", raw)
        if not isinstance(sock, socket.socket):
            raise TypeError(f"the engine's stream is not a socket: {type(sock).__name__}")
        self._sock = sock
        self._sock.setblocking(False)
        self._tty = tty
        self._demux = None if tty else Demuxer()
        self._resize, self._exit_code, self._kill = resize, exit_code, kill
        self._held: bytes | None = None  # a first output that may be a start failure
        self._first = True
        self._closed = False

    async def read(self) -> list[tuple[int, bytes]]:
        """The next output as (channel, data) parts: stdout, or stderr without a terminal;
        [] once the command's output has ended."""
        loop = asyncio.get_running_loop()
        while True:
            data = await loop.sock_recv(self._sock, READ_SIZE)
            if not data:
                return []
            parts = [(STDOUT, data)] if self._demux is None else self._demux.feed(data)
            if self._first and parts:
                self._first = False
                if parts[0][1].startswith(START_FAILURE):
                    self._held, parts = parts[0][1], parts[1:]
            if parts and self._held is not None:  # more came: it was the command's own
                parts, self._held = [(STDOUT, self._held), *parts], None
            if parts:
                return parts

    async def write(self, data: bytes) -> None:
        if data and not self._closed:
            await asyncio.get_running_loop().sock_sendall(self._sock, data)

    def close_stdin(self) -> None:
        """End the command's input (a half-close: its output still comes)."""
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_WR)

    async def resize(self, width: int, height: int) -> None:
        if self._tty:
            await self._resize(width, height)

    async def ending(self) -> tuple[Ending, bytes]:
        """How it ended, once `read` returned []; and any held first output that turned
        out to be the command's own (to be sent on)."""
        code = await self._exit_code()
        held, self._held = self._held or b"", None
        if held and code in (EXIT_CANNOT_EXECUTE, EXIT_NOT_FOUND):
            return Ending(code, held.decode("utf-8", "replace").strip()), b""
        return Ending(code), held

    async def close(self) -> None:
        """Close the connection; kill what the command left running (a caller gone)."""
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(OSError):
            self._sock.close()
        with contextlib.suppress(OSError):
            self._raw.close()
        try:
            await self._kill()
        except Exception as exc:  # the engine went away: nothing left to kill
            log.debug("component=agent stream session kill failed error=%r", exc)
