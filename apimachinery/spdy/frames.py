"""SPDY/3.1 frames: their bytes on the wire, both ways (the SPDY/3.1 draft, section 2).

A control frame is `1 | version(15) | type(16) | flags(8) | length(24)` and its
payload; a data frame `0 | stream id(31) | flags(8) | length(24)` and its data.
Name/value header blocks (SYN_STREAM, SYN_REPLY, HEADERS) are `count(32)` then
`len(32) name len(32) value` pairs, names lower-case, several values of one name
joined by NUL, compressed with one zlib stream per direction of a session, primed
with the SPDY/3 dictionary and sync-flushed after each block (`HeaderCodec`).
kubectl's SPDY (moby/spdystream, Go's old spdy framer) reads and writes exactly these.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field

from apimachinery.spdy.dictionary import DICTIONARY

VERSION = 3
FLAG_FIN = 0x01
FLAG_UNIDIRECTIONAL = 0x02  # SYN_STREAM only
MAX_LENGTH = 0xFFFFFF  # a frame's 24-bit length
INITIAL_WINDOW = 64 * 1024  # SPDY/3.1's default stream and session window
SETTINGS_INITIAL_WINDOW_SIZE = 7

SYN_STREAM, SYN_REPLY, RST_STREAM, SETTINGS, PING, GOAWAY, HEADERS, WINDOW_UPDATE = (
    1, 2, 3, 4, 6, 7, 8, 9)

# RST_STREAM status codes (section 2.4.2)
PROTOCOL_ERROR, INVALID_STREAM, REFUSED_STREAM, CANCEL, INTERNAL_ERROR, \
    FLOW_CONTROL_ERROR, STREAM_IN_USE, STREAM_ALREADY_CLOSED = 1, 2, 3, 5, 6, 7, 8, 9

Headers = dict[str, str]


class ProtocolError(Exception):
    """The peer sent bytes that are not SPDY/3.1: the session cannot go on."""


@dataclass(frozen=True)
class DataFrame:
    stream_id: int
    data: bytes
    fin: bool = False


@dataclass(frozen=True)
class SynStream:
    stream_id: int
    headers: Headers
    associated_to: int = 0
    priority: int = 0
    fin: bool = False
    unidirectional: bool = False


@dataclass(frozen=True)
class SynReply:
    stream_id: int
    headers: Headers = field(default_factory=dict)
    fin: bool = False


@dataclass(frozen=True)
class RstStream:
    stream_id: int
    status: int


@dataclass(frozen=True)
class Settings:
    entries: tuple[tuple[int, int, int], ...]  # (flags, id, value)

    def value(self, setting: int) -> int | None:
        return next((v for _, i, v in self.entries if i == setting), None)


@dataclass(frozen=True)
class Ping:
    ping_id: int


@dataclass(frozen=True)
class GoAway:
    last_good_stream_id: int
    status: int = 0


@dataclass(frozen=True)
class HeadersFrame:
    stream_id: int
    headers: Headers
    fin: bool = False


@dataclass(frozen=True)
class WindowUpdate:
    stream_id: int  # 0: the session's window
    delta: int


Frame = (DataFrame | SynStream | SynReply | RstStream | Settings | Ping | GoAway
         | HeadersFrame | WindowUpdate)


class HeaderCodec:
    """One direction each of a session's header compression: the zlib stream state
    carries over from block to block, so one codec serves one session, in frame order."""

    def __init__(self) -> None:
        self._deflate = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, 15, 9,
                                         zlib.Z_DEFAULT_STRATEGY, DICTIONARY)
        self._inflate = zlib.decompressobj(15, DICTIONARY)

    def encode(self, headers: Headers) -> bytes:
        parts = [struct.pack(">I", len(headers))]
        for name, value in headers.items():
            raw_name, raw_value = name.lower().encode(), value.encode()
            parts += [struct.pack(">I", len(raw_name)), raw_name,
                      struct.pack(">I", len(raw_value)), raw_value]
        block = b"".join(parts)
        return self._deflate.compress(block) + self._deflate.flush(zlib.Z_SYNC_FLUSH)

    def decode(self, compressed: bytes) -> Headers:
        try:
            block = self._inflate.decompress(compressed)
        except zlib.error as exc:
            raise ProtocolError(f"header block does not inflate: {exc}") from exc
        return parse_header_block(block)


def parse_header_block(block: bytes) -> Headers:
    """An uncompressed name/value block; names lower-cased as Go's framer reads them."""
    try:
        (count,), at = struct.unpack_from(">I", block), 4
        headers: Headers = {}
        for _ in range(count):
            name, at = _string(block, at)
            value, at = _string(block, at)
            headers[name.lower()] = value
    except (struct.error, UnicodeDecodeError) as exc:
        raise ProtocolError(f"malformed header block: {exc}") from exc
    return headers


def _string(block: bytes, at: int) -> tuple[str, int]:
    """A length-prefixed string of a header block, and where the next one starts."""
    (size,) = struct.unpack_from(">I", block, at)
    end = at + 4 + size
    if end > len(block):
        raise ProtocolError("header block is truncated")
    return block[at + 4:end].decode(), end


def _control(kind: int, flags: int, payload: bytes) -> bytes:
    if len(payload) > MAX_LENGTH:
        raise ValueError("control frame too large")
    return struct.pack(">HHI", 0x8000 | VERSION, kind, (flags << 24) | len(payload)) + payload


def encode(frame: Frame, codec: HeaderCodec) -> bytes:
    """A frame's bytes; `codec` compresses its header block (so: in send order)."""
    match frame:
        case DataFrame(stream_id, data, fin):
            if len(data) > MAX_LENGTH:
                raise ValueError("data frame too large")
            return struct.pack(">II", stream_id & 0x7FFFFFFF,
                               (FLAG_FIN if fin else 0) << 24 | len(data)) + data
        case SynStream(sid, headers, assoc, priority, fin, uni):
            flags = (FLAG_FIN if fin else 0) | (FLAG_UNIDIRECTIONAL if uni else 0)
            return _control(SYN_STREAM, flags, struct.pack(">IIBB", sid, assoc,
                                                           (priority & 7) << 5, 0)
                            + codec.encode(headers))
        case SynReply(sid, headers, fin):
            return _control(SYN_REPLY, FLAG_FIN if fin else 0,
                            struct.pack(">I", sid) + codec.encode(headers))
        case HeadersFrame(sid, headers, fin):
            return _control(HEADERS, FLAG_FIN if fin else 0,
                            struct.pack(">I", sid) + codec.encode(headers))
        case RstStream(sid, status):
            return _control(RST_STREAM, 0, struct.pack(">II", sid, status))
        case Settings(entries):
            return _control(SETTINGS, 0, struct.pack(">I", len(entries)) + b"".join(
                struct.pack(">II", (f << 24) | i, v) for f, i, v in entries))
        case Ping(ping_id):
            return _control(PING, 0, struct.pack(">I", ping_id))
        case GoAway(last, status):
            return _control(GOAWAY, 0, struct.pack(">II", last, status))
        case WindowUpdate(sid, delta):
            return _control(WINDOW_UPDATE, 0, struct.pack(">II", sid, delta & 0x7FFFFFFF))
    raise TypeError(f"not a SPDY frame: {frame!r}")


class FrameReader:
    """Frames out of a byte stream that arrives in pieces (WebSocket messages, reads):
    `feed` what came, then iterate `frames()` for every whole frame so far."""

    def __init__(self, codec: HeaderCodec) -> None:
        self._codec = codec
        self._buffer = bytearray()

    def feed(self, data: bytes) -> None:
        self._buffer += data

    def frames(self) -> Iterator[Frame]:
        buf, at = self._buffer, 0
        try:
            while len(buf) - at >= 8:
                first, second = struct.unpack_from(">II", buf, at)
                length = second & MAX_LENGTH
                if len(buf) - at - 8 < length:
                    break
                payload = bytes(buf[at + 8:at + 8 + length])
                at += 8 + length
                yield self._parse(first, second >> 24, payload)
        finally:
            del buf[:at]

    def _parse(self, first: int, flags: int, payload: bytes) -> Frame:
        if not first & 0x80000000:
            return DataFrame(first & 0x7FFFFFFF, payload, bool(flags & FLAG_FIN))
        version, kind = (first >> 16) & 0x7FFF, first & 0xFFFF
        if version != VERSION:
            raise ProtocolError(f"unsupported SPDY version {version}")
        try:
            return self._control(kind, flags, payload)
        except struct.error as exc:
            raise ProtocolError(f"control frame {kind} is too short") from exc

    def _control(self, kind: int, flags: int, payload: bytes) -> Frame:
        fin = bool(flags & FLAG_FIN)
        if kind == SYN_STREAM:
            sid, assoc, pri, _slot = struct.unpack_from(">IIBB", payload)
            return SynStream(sid & 0x7FFFFFFF, self._codec.decode(payload[10:]),
                             assoc & 0x7FFFFFFF, pri >> 5, fin,
                             bool(flags & FLAG_UNIDIRECTIONAL))
        if kind in (SYN_REPLY, HEADERS):
            (sid,) = struct.unpack_from(">I", payload)
            headers = self._codec.decode(payload[4:])
            cls = SynReply if kind == SYN_REPLY else HeadersFrame
            return cls(sid & 0x7FFFFFFF, headers, fin)
        if kind == RST_STREAM:
            sid, status = struct.unpack_from(">II", payload)
            return RstStream(sid & 0x7FFFFFFF, status)
        if kind == SETTINGS:
            (count,) = struct.unpack_from(">I", payload)
            entries = []
            for n in range(count):
                word, value = struct.unpack_from(">II", payload, 4 + 8 * n)
                entries.append((word >> 24, word & 0xFFFFFF, value))
            return Settings(tuple(entries))
        if kind == PING:
            return Ping(struct.unpack_from(">I", payload)[0])
        if kind == GOAWAY:
            last, *rest = struct.unpack_from(">II" if len(payload) >= 8 else ">I", payload)
            return GoAway(last & 0x7FFFFFFF, rest[0] if rest else 0)
        if kind == WINDOW_UPDATE:
            sid, delta = struct.unpack_from(">II", payload)
            return WindowUpdate(sid & 0x7FFFFFFF, delta & 0x7FFFFFFF)
        raise ProtocolError(f"unknown control frame type {kind}")
