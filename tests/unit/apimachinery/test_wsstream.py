"""The WebSocket channel protocol's pieces: framing, Status messages, options, Docker's
multiplexed stream."""

from __future__ import annotations

import json

import pytest

from apimachinery import wsstream


def test_the_best_offered_protocol_is_echoed() -> None:
    assert wsstream.choose_protocol(["v5.channel.k8s.io"]) == "v5.channel.k8s.io"
    assert wsstream.choose_protocol(["v4.channel.k8s.io", "v5.channel.k8s.io"]) == \
        "v5.channel.k8s.io"
    assert wsstream.choose_protocol([" v4.channel.k8s.io"]) == "v4.channel.k8s.io"
    assert wsstream.choose_protocol(["channel.k8s.io", "SPDY/3.1"]) is None


def test_frames_carry_the_channel_first() -> None:
    assert wsstream.frame(wsstream.STDOUT, b"hi") == b"\x01hi"
    assert wsstream.unframe(b"\x02err") == (wsstream.STDERR, b"err")
    assert wsstream.unframe(b"\xff\x00") == (wsstream.CLOSE, b"\x00")
    assert wsstream.unframe(b"") == (wsstream.STDIN, b"")
    assert wsstream.message_bytes({"text": "\x00ab"}) == b"\x00ab"
    assert wsstream.message_bytes({"bytes": b"\x00c"}) == b"\x00c"
    assert wsstream.message_bytes({}) is None


def test_resize_messages() -> None:
    message = wsstream.resize_message(120, 40)
    channel, data = wsstream.unframe(message)
    assert channel == wsstream.RESIZE and json.loads(data) == {"Width": 120, "Height": 40}
    assert wsstream.parse_resize(data) == (120, 40)
    for bad in (b"{", b'{"Width": 0, "Height": 3}', b'{"Width": "x"}', b"[]"):
        assert wsstream.parse_resize(bad) is None


def test_exit_statuses_are_what_kubectl_and_the_python_client_read() -> None:
    assert wsstream.exit_status(0)["status"] == "Success"
    failed = wsstream.exit_status(3, ["sh", "-c", "exit 3"])
    assert failed["reason"] == "NonZeroExitCode"
    assert failed["details"]["causes"] == [{"reason": "ExitCode", "message": "3"}]
    assert failed["message"] == ("command terminated with non-zero exit code: error "
                                 "executing command [sh -c exit 3], exit code 3")
    assert wsstream.exit_code_of(failed) == 3
    assert wsstream.exit_code_of(wsstream.success()) == 0
    assert wsstream.exit_code_of(wsstream.failure("engine gone")) is None
    channel, data = wsstream.unframe(wsstream.status_message(failed))
    assert channel == wsstream.ERROR and json.loads(data) == failed


def test_options_are_checked_as_kubernetes_does() -> None:
    query = {"command": ["sh", "-c", "true"], "container": ["app"], "stdin": ["true"],
             "stdout": ["1"], "stderr": ["True"], "tty": ["false"]}
    options = wsstream.parse_options(query, needs_command=True)
    assert options == wsstream.StreamOptions(("sh", "-c", "true"), "app", True, True, True,
                                             False)
    assert wsstream.query_of(options) == [("command", "sh"), ("command", "-c"),
                                          ("command", "true"), ("container", "app"),
                                          ("stdin", "1"), ("stdout", "1"), ("stderr", "1")]
    # a terminal carries stderr with stdout
    assert not wsstream.parse_options({**query, "tty": ["1"]}, needs_command=True).stderr
    with pytest.raises(wsstream.InvalidOptions, match="at least one command"):
        wsstream.parse_options({"stdout": ["1"]}, needs_command=True)
    with pytest.raises(wsstream.InvalidOptions, match="at least 1 of stdin, stdout, stderr"):
        wsstream.parse_options({"command": ["ls"]}, needs_command=True)
    with pytest.raises(wsstream.InvalidOptions, match="stdin: invalid boolean value 'yes'"):
        wsstream.parse_options({"command": ["ls"], "stdin": ["yes"]}, needs_command=True)
    attach = wsstream.parse_options({"stdout": ["1"]}, needs_command=False)
    assert attach.command == () and attach.stdout


def test_docker_multiplexed_output_is_split_whatever_the_reads() -> None:
    def part(stream: int, data: bytes) -> bytes:
        return bytes((stream, 0, 0, 0)) + len(data).to_bytes(4, "big") + data
    raw = part(1, b"out\n") + part(2, b"err\n") + part(1, b"x" * 70000)
    demux, got = wsstream.Demuxer(), []
    for i in range(0, len(raw), 5):  # in pieces that split headers and bodies
        got += demux.feed(raw[i:i + 5])
    assert got == [(wsstream.STDOUT, b"out\n"), (wsstream.STDERR, b"err\n"),
                   (wsstream.STDOUT, b"x" * 70000)]
    assert demux.pending == 0
