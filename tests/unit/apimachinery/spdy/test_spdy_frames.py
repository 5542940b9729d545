"""SPDY/3.1 frames: every frame type round-trips, header blocks inflate with the SPDY/3
dictionary, and a session kubectl v1.32 really sent (two connections of `kubectl
port-forward pod/web 18170:80`, captured inside its WebSocket tunnel) parses whole."""

from __future__ import annotations

import zlib

import pytest

from apimachinery.spdy import frames as f
from apimachinery.spdy.dictionary import DICTIONARY, DICTIONARY_ID

# The bytes kubectl sent in its first WebSocket messages, concatenated: SYN_STREAMs with
# compressed header blocks (error then data per connection), FINs, the HTTP requests.
KUBECTL_SESSION = bytes.fromhex(
    "800300010000003d0000000100000000000078f9e3c6a7c202253a060606ce2248fc6482d22da30138e5"
    "9514a526e6420b17d65450d0430aea2250a266b23000000000ffff000000010100000080030001000000"
    "1c00000003000000000000826a4555082a851231d4a1190f000000ffff0000000300000059474554202f"
    "696e6465782e68746d6c20485454502f312e310d0a486f73743a203132372e302e302e313a3138313730"
    "0d0a557365722d4167656e743a206375726c2f372e38382e310d0a4163636570743a202a2f2a0d0a0d0a"
    "0000000301000000800300010000001800000005000000000000c2aa138715a85a0d01000000ffff0000"
    "000501000000800300010000001700000007000000000000826a25a4068ba300000000ffff0000000700"
    "000059474554202f696e6465782e68746d6c20485454502f312e310d0a486f73743a203132372e302e30"
    "2e313a31383137300d0a557365722d4167656e743a206375726c2f372e38382e310d0a4163636570743a"
    "202a2f2a0d0a0d0a0000000701000000"
)


def roundtrip(frame: f.Frame) -> f.Frame:
    reader = f.FrameReader(f.HeaderCodec())
    reader.feed(f.encode(frame, f.HeaderCodec()))
    (back,) = list(reader.frames())
    return back


@pytest.mark.parametrize("frame", [
    f.DataFrame(5, b"hello", fin=True),
    f.DataFrame(2**31 - 1, b""),
    f.SynStream(3, {"streamtype": "data", "port": "80", "requestid": "7"}, priority=3,
                fin=False, unidirectional=True),
    f.SynReply(3, {}),
    f.SynReply(9, {"a": "b"}, fin=True),
    f.HeadersFrame(3, {"x": "y"}, fin=True),
    f.RstStream(3, f.CANCEL),
    f.Settings(((0, f.SETTINGS_INITIAL_WINDOW_SIZE, 1 << 20), (1, 4, 100))),
    f.Ping(7),
    f.GoAway(11, 0),
    f.WindowUpdate(0, 32768),
    f.WindowUpdate(5, 1),
])
def test_every_frame_type_round_trips(frame: f.Frame) -> None:
    assert roundtrip(frame) == frame


def test_the_dictionary_is_the_spdy3_one() -> None:
    assert len(DICTIONARY) == 1423
    assert zlib.adler32(DICTIONARY) == DICTIONARY_ID == 0xE3C6A7C2


def test_kubectls_session_parses_whole() -> None:
    reader = f.FrameReader(f.HeaderCodec())
    reader.feed(KUBECTL_SESSION)
    frames = list(reader.frames())
    syns = [fr for fr in frames if isinstance(fr, f.SynStream)]
    assert [(s.stream_id, s.headers) for s in syns] == [
        (1, {"streamtype": "error", "port": "80", "requestid": "0"}),
        (3, {"streamtype": "data", "port": "80", "requestid": "0"}),
        (5, {"streamtype": "error", "port": "80", "requestid": "1"}),
        (7, {"streamtype": "data", "port": "80", "requestid": "1"})]
    data = [fr for fr in frames if isinstance(fr, f.DataFrame) and fr.data]
    assert [d.stream_id for d in data] == [3, 7]
    assert all(d.data.startswith(b"GET /index.html HTTP/1.1\r\n") for d in data)
    assert [fr.stream_id for fr in frames if isinstance(fr, f.DataFrame) and fr.fin] == [
        1, 3, 5, 7]


def test_kubectls_first_header_block_names_the_dictionary() -> None:
    """A zlib stream with a preset dictionary carries its Adler-32 after the header."""
    start = KUBECTL_SESSION.index(b"\x78")  # the first block's zlib header (CMF)
    assert int.from_bytes(KUBECTL_SESSION[start + 2:start + 6], "big") == DICTIONARY_ID


@pytest.mark.parametrize("cut", [1, 7, 8, 20, 60])
def test_frames_split_anywhere_come_out_the_same(cut: int) -> None:
    whole = f.FrameReader(f.HeaderCodec())
    whole.feed(KUBECTL_SESSION)
    expected = list(whole.frames())
    reader, got = f.FrameReader(f.HeaderCodec()), []
    for at in range(0, len(KUBECTL_SESSION), cut):
        reader.feed(KUBECTL_SESSION[at:at + cut])
        got += list(reader.frames())
    assert got == expected


def test_one_codec_compresses_blocks_in_sequence() -> None:
    """Header compression state carries over: the second block is decoded only by the
    decoder that saw the first."""
    sender, receiver = f.HeaderCodec(), f.FrameReader(f.HeaderCodec())
    for n in range(3):
        receiver.feed(f.encode(f.SynStream(2 * n + 1, {"requestid": str(n)}), sender))
    assert [fr.headers["requestid"] for fr in receiver.frames()  # type: ignore[union-attr]
            ] == ["0", "1", "2"]


@pytest.mark.parametrize("garbage", [
    bytes.fromhex("80020001000000040000000000"),  # SPDY/2
    bytes.fromhex("8003000100000010" + "00000001000000000000" + "000000000000"),  # bad zlib
    bytes.fromhex("8003006300000000"),  # an unknown control frame type
])
def test_what_is_not_spdy3_is_a_protocol_error(garbage: bytes) -> None:
    reader = f.FrameReader(f.HeaderCodec())
    reader.feed(garbage)
    with pytest.raises(f.ProtocolError):
        list(reader.frames())
