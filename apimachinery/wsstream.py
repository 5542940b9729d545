"""Kubernetes' WebSocket channel protocol for exec and attach (`k8s.io/apimachinery/pkg/util/
remotecommand`, `wsstream`): what the apiserver, the agent and the CLI share.

Every binary message is one channel byte and its data: 0 stdin, 1 stdout, 2 stderr,
3 the error channel (from `v4.channel.k8s.io` on, one JSON metav1.Status when the
command ends: Success, or Failure with reason NonZeroExitCode and an ExitCode cause),
4 terminal resize (JSON `{"Width": w, "Height": h}`), and in `v5.channel.k8s.io` 255,
"close this channel" (`[255, 0]`: the client's stdin has ended). kubectl v1.32 offers
only v5 and falls back to SPDY unless the server echoes it exactly; the Python clients
offer v5 and v4. The older protocols (no Status on channel 3, base64 text frames) are
not served.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

V5 = "v5.channel.k8s.io"
V4 = "v4.channel.k8s.io"
PROTOCOLS = (V5, V4)  # the server's preference, best first

STDIN, STDOUT, STDERR, ERROR, RESIZE, CLOSE = 0, 1, 2, 3, 4, 255

# Docker (and runc) exit codes for a command that could not be started.
EXIT_CANNOT_EXECUTE, EXIT_NOT_FOUND = 126, 127


def choose_protocol(offered: Iterable[str]) -> str | None:
    """The sub-protocol to echo: the best one the client offered that we speak."""
    offers = {o.strip() for o in offered}
    return next((p for p in PROTOCOLS if p in offers), None)


def frame(channel: int, data: bytes = b"") -> bytes:
    """One message: the channel byte, then the data."""
    return bytes((channel,)) + data


def unframe(message: bytes) -> tuple[int, bytes]:
    """(channel, data) of one message; an empty message is channel 0 with no data."""
    if not message:
        return STDIN, b""
    return message[0], message[1:]


def message_bytes(message: Mapping[str, Any]) -> bytes | None:
    """The data of an ASGI WebSocket message. A text message counts as its UTF-8 bytes:
    the Python client sends stdin given as `str` in text frames, and Kubernetes reads a
    message the same whatever its frame type."""
    data = message.get("bytes")
    if data is None and message.get("text") is not None:
        data = str(message["text"]).encode()
    return data if isinstance(data, bytes) else None


def parse_resize(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a resize message, or None when it is not one we can use."""
    try:
        size = json.loads(data)
        width, height = int(size["Width"]), int(size["Height"])
    except (ValueError, KeyError, TypeError):
        return None
    if not (0 < width < 65536 and 0 < height < 65536):
        return None
    return width, height


def resize_message(width: int, height: int) -> bytes:
    return frame(RESIZE, json.dumps({"Width": width, "Height": height}).encode())


def success() -> dict[str, Any]:
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"}


def exit_status(code: int, command: Sequence[str] = ()) -> dict[str, Any]:
    """The Status a command's exit code is sent as: Success for 0, else what the kubelet
    writes (`command terminated with non-zero exit code`), which kubectl turns back into
    its own exit code and the Python client's `returncode` reads from the cause."""
    if code == 0:
        return success()
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": f"command terminated with non-zero exit code: error executing "
                       f"command [{' '.join(command)}], exit code {code}",
            "reason": "NonZeroExitCode",
            "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]}}


def failure(message: str, reason: str = "InternalError", code: int = 500) -> dict[str, Any]:
    """A Status for a stream that failed for another reason than the command's exit."""
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}


def status_message(status: Mapping[str, Any]) -> bytes:
    return frame(ERROR, json.dumps(status).encode())


def exit_code_of(status: Mapping[str, Any]) -> int | None:
    """The exit code a Status carries: 0 for Success, the ExitCode cause of a
    NonZeroExitCode; None for any other failure (the stream itself failed)."""
    if status.get("status") == "Success":
        return 0
    if status.get("reason") != "NonZeroExitCode":
        return None
    for cause in (status.get("details") or {}).get("causes") or []:
        if cause.get("reason") == "ExitCode":
            try:
                return int(cause.get("message"))
            except (TypeError, ValueError):
                return None
    return None


class InvalidOptions(ValueError):
    """The query does not describe an exec or attach Kubernetes would run (a 400)."""


@dataclass(frozen=True)
class StreamOptions:
    """PodExecOptions / PodAttachOptions as the query carries them."""

    command: tuple[str, ...]
    container: str | None
    stdin: bool
    stdout: bool
    stderr: bool
    tty: bool


_TRUE = {"1", "t", "T", "true", "TRUE", "True"}
_FALSE = {"0", "f", "F", "false", "FALSE", "False", ""}


def parse_bool(name: str, values: Sequence[str]) -> bool:
    """A query boolean as Go's strconv.ParseBool reads it (the last value wins)."""
    if not values:
        return False
    value = values[-1]
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise InvalidOptions(f"{name}: invalid boolean value {value!r}")


def parse_options(query: Mapping[str, Sequence[str]], *, needs_command: bool
                  ) -> StreamOptions:
    """The options of an exec (`needs_command`) or an attach, checked as Kubernetes does:
    at least one stream, a command for an exec; with a terminal stderr is dropped (the
    terminal carries both, as the kubelet's NewOptions does)."""
    def flag(name: str) -> bool:
        return parse_bool(name, list(query.get(name) or []))
    command = tuple(query.get("command") or [])
    if needs_command and not command:
        raise InvalidOptions("you must specify at least one command for the container")
    tty, stdin, stdout, stderr = flag("tty"), flag("stdin"), flag("stdout"), flag("stderr")
    if tty:
        stderr = False
    if not (stdin or stdout or stderr):
        raise InvalidOptions("you must specify at least 1 of stdin, stdout, stderr")
    containers = list(query.get("container") or [])
    return StreamOptions(command, containers[-1] if containers else None, stdin, stdout,
                         stderr, tty)


def query_of(options: StreamOptions) -> list[tuple[str, str]]:
    """The options back as query pairs (the apiserver's request to the agent)."""
    pairs = [("command", c) for c in options.command]
    if options.container:
        pairs.append(("container", options.container))
    pairs += [(name, "1") for name, on in (("stdin", options.stdin), ("stdout", options.stdout),
                                           ("stderr", options.stderr), ("tty", options.tty))
              if on]
    return pairs


class Demuxer:
    """Docker's multiplexed stream (no terminal): 8-byte headers, [stream, 0, 0, 0, size
    (big-endian 32 bits)], then that many bytes of stdout (1) or stderr (2). Fed
    whatever the socket gave; yields (stream, data) for each complete part."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        self._buffer += data
        out: list[tuple[int, bytes]] = []
        while len(self._buffer) >= 8:
            size = int.from_bytes(self._buffer[4:8], "big")
            if len(self._buffer) < 8 + size:
                break
            stream = self._buffer[0]
            out.append((STDERR if stream == 2 else STDOUT, bytes(self._buffer[8:8 + size])))
            del self._buffer[:8 + size]
        return out

    @property
    def pending(self) -> int:
        return len(self._buffer)
