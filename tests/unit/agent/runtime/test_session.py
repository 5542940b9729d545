"""An interactive session over the engine's socket (a socketpair stands in for Docker's
hijacked connection): output demuxed, stdin and its end, and a command that never
started told apart from one that printed the same words."""

from __future__ import annotations

import asyncio
import socket

from agent.runtime.session import StreamSession
from apimachinery.wsstream import STDERR, STDOUT


def _part(stream: int, data: bytes) -> bytes:
    return bytes((stream, 0, 0, 0)) + len(data).to_bytes(4, "big") + data


def _session(sock: socket.socket, tty: bool, code: int | None) -> tuple[StreamSession,
                                                                         list[str]]:
    calls: list[str] = []

    async def resize(width: int, height: int) -> None:
        calls.append(f"resize {width}x{height}")

    async def exit_code() -> int | None:
        return code

    async def kill() -> None:
        calls.append("kill")
    return StreamSession(sock, tty=tty, resize=resize, exit_code=exit_code, kill=kill), calls


async def _drain(session: StreamSession) -> list[tuple[int, bytes]]:
    out: list[tuple[int, bytes]] = []
    while parts := await session.read():
        out += parts
    return out


def test_output_input_and_the_exit_code() -> None:
    asyncio.run(_test_output_input_and_the_exit_code())


async def _test_output_input_and_the_exit_code() -> None:
    ours, engine = socket.socketpair()
    session, calls = _session(ours, tty=False, code=3)
    await session.write(b"input")
    session.close_stdin()
    assert engine.recv(100) == b"input" and engine.recv(100) == b""  # stdin ended
    engine.sendall(_part(1, b"out") + _part(2, b"err"))
    engine.close()
    assert await _drain(session) == [(STDOUT, b"out"), (STDERR, b"err")]
    ending, held = await session.ending()
    assert (ending.exit_code, ending.error, held) == (3, "", b"")
    await session.resize(80, 24)  # no terminal: nothing to resize
    await session.close()
    assert calls == ["kill"]


def test_a_command_that_never_started_is_an_error_not_output() -> None:
    asyncio.run(_test_a_command_that_never_started_is_an_error_not_output())


async def _test_a_command_that_never_started_is_an_error_not_output() -> None:
    ours, engine = socket.socketpair()
    session, _ = _session(ours, tty=True, code=126)
    engine.sendall(b'OCI runtime exec failed: exec: "tar": executable file not found\r\n')
    engine.close()
    assert await _drain(session) == []
    ending, held = await session.ending()
    assert ending.error == 'OCI runtime exec failed: exec: "tar": executable file not found'
    assert held == b""
    await session.resize(100, 30)
    await session.close()


def test_the_same_words_from_a_command_that_ran_are_its_output() -> None:
    asyncio.run(_test_the_same_words_from_a_command_that_ran_are_its_output())


async def _test_the_same_words_from_a_command_that_ran_are_its_output() -> None:
    ours, engine = socket.socketpair()
    session, calls = _session(ours, tty=True, code=0)
    engine.sendall(b"OCI runtime exec failed, said the script\n")
    await asyncio.sleep(0.01)
    engine.sendall(b"and went on\n")
    engine.close()
    out = await _drain(session)
    ending, held = await session.ending()
    assert b"".join(d for _, d in out) + held == (b"OCI runtime exec failed, said the script\n"
                                                  b"and went on\n")
    assert ending.error == "" and ending.exit_code == 0
    await session.resize(100, 30)
    await session.close()
    assert calls == ["resize 100x30", "kill"]
