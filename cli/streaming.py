"""The CLI's side of exec and attach: Kubernetes' WebSocket channel protocol, as kubectl
speaks it (`v5.channel.k8s.io`, apimachinery.wsstream).

One connection per command, with the client's own identity (its token or client
certificate and CA). Output goes to stdout and stderr as it comes; stdin, when asked
for, is read on a thread and sent to its end, then closed (`[255, 0]`); with a
terminal, the local terminal is put in raw mode for the session and its size is sent
at the start and on every SIGWINCH. The Status on channel 3 gives the exit code.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import ssl
import sys
import termios
import threading
import tty as ttymode
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO
from urllib.parse import urlencode

import websocket

from apimachinery import wsstream
from apimachinery.client import Client

from .commands import CommandError


@dataclass
class Outcome:
    """How a stream ended: the exit code, or the server's reason it failed (`error`)."""

    code: int = 0
    error: str = ""
    stdout: bytearray = field(default_factory=bytearray)
    stderr: bytearray = field(default_factory=bytearray)


def _sslopt(verify: ssl.SSLContext | bool) -> dict[str, Any]:
    if isinstance(verify, ssl.SSLContext):
        return {"context": verify}
    return {} if verify else {"cert_reqs": ssl.CERT_NONE, "check_hostname": False}


def connect(client: Client, path: str, query: list[tuple[str, str]]) -> websocket.WebSocket:
    """Open the stream; a refusal is the server's Status message as a CommandError."""
    server, headers, verify = client.stream_target()
    url = f"{server.replace('https://', 'wss://', 1).replace('http://', 'ws://', 1)}" \
          f"{path}?{urlencode(query)}"
    try:
        return websocket.create_connection(
            url, header=[f"{k}: {v}" for k, v in headers.items()],
            subprotocols=[wsstream.V5], sslopt=_sslopt(verify), timeout=30)
    except websocket.WebSocketBadStatusException as exc:
        raise CommandError(_refusal(exc)) from None
    except (OSError, websocket.WebSocketException) as exc:
        raise CommandError(f"cannot open the stream: {exc}") from None


def _refusal(exc: websocket.WebSocketBadStatusException) -> str:
    body = exc.resp_body or b""
    try:
        status = json.loads(body)
        return f"Error from server ({status.get('reason', exc.status_code)}): " \
               f"{status.get('message', '')}"
    except (ValueError, AttributeError):
        return f"the server refused the stream: {exc.status_code} {body!r}"


def run(conn: websocket.WebSocket, *, stdin: BinaryIO | bytes | None,
        out: Callable[[int, bytes], None], on_resize: Callable[[Callable[[], None]], None]
        | None = None) -> Outcome:
    """Pump one stream to its end: input from `stdin` (a file read on a thread, or bytes),
    output to `out(channel, data)`; the Status read into the outcome."""
    outcome = Outcome()
    conn.settimeout(None)
    if stdin is not None:
        threading.Thread(target=_send_input, args=(conn, stdin), daemon=True).start()
    if on_resize is not None:
        on_resize(lambda: _send_size(conn))
    while True:
        try:
            opcode, data = conn.recv_data()
        except (websocket.WebSocketConnectionClosedException, OSError):
            break
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            break
        channel, payload = wsstream.unframe(bytes(data))
        if channel == wsstream.ERROR:
            _read_status(payload, outcome)
        elif channel in (wsstream.STDOUT, wsstream.STDERR):
            out(channel, payload)
    conn.shutdown()  # type: ignore[no-untyped-call]  # the server ended the stream
    return outcome


def _read_status(payload: bytes, outcome: Outcome) -> None:
    try:
        status = json.loads(payload)
    except ValueError:
        outcome.code, outcome.error = 1, payload.decode(errors="replace")
        return
    code = wsstream.exit_code_of(status)
    if code is None:
        outcome.code, outcome.error = 1, str(status.get("message") or "the stream failed")
    else:
        outcome.code = code


def _send_input(conn: websocket.WebSocket, stdin: BinaryIO | bytes) -> None:
    """Send stdin to its end, then close it (v5): the command sees EOF."""
    try:
        if isinstance(stdin, bytes):
            for i in range(0, len(stdin), 32 * 1024):
                conn.send_binary(wsstream.frame(wsstream.STDIN, stdin[i:i + 32 * 1024]))
        else:
            fd = stdin.fileno()
            while chunk := os.read(fd, 32 * 1024):
                conn.send_binary(wsstream.frame(wsstream.STDIN, chunk))
        conn.send_binary(bytes((wsstream.CLOSE, wsstream.STDIN)))
    except (websocket.WebSocketException, OSError):
        return  # the stream ended first


def _send_size(conn: websocket.WebSocket) -> None:
    size = shutil.get_terminal_size()
    with contextlib.suppress(websocket.WebSocketException, OSError):
        conn.send_binary(wsstream.resize_message(size.columns, size.lines))


@contextlib.contextmanager
def raw_terminal() -> Iterator[Callable[[Callable[[], None]], None]]:
    """The local terminal in raw mode (keys go to the container as typed), restored after;
    yields how to be told of its resizes (now, and on every SIGWINCH)."""
    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    previous = signal.getsignal(signal.SIGWINCH)

    def watch(send: Callable[[], None]) -> None:
        signal.signal(signal.SIGWINCH, lambda *_: send())
        send()
    ttymode.setraw(fd)
    try:
        yield watch
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
        signal.signal(signal.SIGWINCH, previous)


def write_out(channel: int, data: bytes) -> None:
    stream = sys.stdout.buffer if channel == wsstream.STDOUT else sys.stderr.buffer
    stream.write(data)
    stream.flush()
